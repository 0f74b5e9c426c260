"""One search contract (:mod:`knowledge.search.base`) with an embedded and an Elasticsearch backend."""

from knowledge.search.base import SearchDoc, SearchFilters, SearchHit, SearchIndex, SearchResult

__all__ = ["SearchDoc", "SearchFilters", "SearchHit", "SearchIndex", "SearchResult", "make_index"]


def make_index(settings, engine, tokenizer=None, synonyms=None, places=None) -> SearchIndex:
    """The configured backend: Elasticsearch when ``settings.elasticsearch_url`` is set, else embedded;
    with the semantic stage around it when ``settings.semantic`` is set (:mod:`knowledge.semantic`).

    Place names for place-aware ranking: the default ones plus the configured gazetteers.
    """
    index = _backend(settings, engine, tokenizer, synonyms, places)
    if getattr(settings, "semantic", False):
        from knowledge.semantic import wrap

        return wrap(index, engine, settings.data_dir / "models")
    return index


def _backend(settings, engine, tokenizer, synonyms, places) -> SearchIndex:
    from knowledge.places import configured_places
    from knowledge.synonyms import SynonymSet
    from knowledge.tokenize import Tokenizer

    synonyms = synonyms or SynonymSet()
    tokenizer = tokenizer or Tokenizer(synonyms.terms())
    places = places or configured_places()
    if getattr(settings, "elasticsearch_url", None):
        from elasticsearch import AsyncElasticsearch

        from knowledge.search.elasticsearch import ElasticsearchIndex

        client = AsyncElasticsearch(settings.elasticsearch_url, request_timeout=5)
        return ElasticsearchIndex(client, tokenizer=tokenizer, synonyms=synonyms, owns_client=True,
                                  places=places)
    from knowledge.search.embedded import EmbeddedSearchIndex

    return EmbeddedSearchIndex(engine, tokenizer=tokenizer, synonyms=synonyms, places=places)
