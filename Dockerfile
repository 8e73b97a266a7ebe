# ordo serve / ordo worker in a container. Untested on the machines this was
# written on (they cannot build images): see the README's "Deployment" section.
#
#   docker build -t ordo .
#   docker run -v "$PWD/myproject:/project" -e ORDO_STATE_URL=postgresql://... -p 8080:8080 \
#       ordo serve --host 0.0.0.0
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[service,postgres,data]" && useradd --create-home --uid 1000 ordo

USER ordo
WORKDIR /project
EXPOSE 8080
ENTRYPOINT ["ordo"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "0"]
