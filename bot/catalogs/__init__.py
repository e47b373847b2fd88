"""Message catalogs, one module per command family; ``bot.i18n`` merges them."""
