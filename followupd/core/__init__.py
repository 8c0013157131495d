"""Pure core: no I/O, no Google imports; plain data in, decisions out."""
