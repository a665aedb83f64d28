"""Sources: articles from files, URLs and feeds, fetched through the address guard."""
