"""Model building: formula text and a table -> ModelData (the grammar, R's model matrices),
plus a formula written from menus (builder) and read back in words (explain)."""
