select product_id, sku, name, category_name, unit_price
from {{ ref('stg_products') }}
