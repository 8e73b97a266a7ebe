SELECT region,
       COUNT(*)    AS sales,
       SUM(amount) AS total
FROM ST_SALES
WHERE amount >= {{ min_amount }}
GROUP BY region
ORDER BY region
