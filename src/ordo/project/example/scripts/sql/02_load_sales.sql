-- One statement, never split: a multi-row insert. The region param is quoted by the `literal` filter.
INSERT INTO ST_SALES (id, region, amount, sold_on) VALUES
    (1, {{ region | literal }}, 120.50, '2026-01-05'),
    (2, {{ region | literal }},   8.25, '2026-01-06'),
    (3, 'US',                   310.00, '2026-01-06'),
    (4, 'US',                    42.10, '2026-01-07'),
    (5, 'APAC',                  99.99, '2026-01-08')
