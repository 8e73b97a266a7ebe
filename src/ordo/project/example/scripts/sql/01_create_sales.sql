CREATE TABLE ST_SALES (
    id       INTEGER PRIMARY KEY,
    region   VARCHAR(20) NOT NULL,
    amount   NUMERIC(10, 2) NOT NULL,
    sold_on  DATE NOT NULL
)
