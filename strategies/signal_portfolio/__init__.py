"""Signal-driven portfolio: many signal strategies, one risk gate, one book of positions."""
