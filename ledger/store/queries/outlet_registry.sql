-- The outlet registry columns schemes use.
SELECT slug AS outlet, fte, regional_fte, group_name, rpm FROM outlets ORDER BY slug
