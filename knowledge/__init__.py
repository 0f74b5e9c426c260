"""Knowledge base: articles, Chinese search (embedded and Elasticsearch), agent assist, chatbot."""
