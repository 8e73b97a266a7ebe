select p.product_id, p.sku, p.name, p.unit_price, c.name as category_name
from products p
join categories c on c.category_id = p.category_id
