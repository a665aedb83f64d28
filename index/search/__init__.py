"""Search: keyword index, word translations (lexicon), hubness, fusion, the opened index's hybrid search."""
