"""Place-aware ranking: names from jieba's dictionary, hierarchy from a gazetteer."""

from __future__ import annotations

from knowledge.places import (
    OTHER_REGION_PENALTY, SAME_REGION_BOOST, configured_places, default_places, rerank_factor,
)
from knowledge.search.base import SearchDoc
from knowledge.search.embedded import EmbeddedSearchIndex
from knowledge.tokenize import Tokenizer
from routing.gazetteer import Gazetteer


def art(ref, body) -> SearchDoc:
    return SearchDoc(kind="article", ref_id=str(ref), title="", body=body, status="published")


def test_default_names_need_no_data_files():
    places = default_places()
    tok = Tokenizer()
    assert places.regions(tok.words("济南市出台稳企业措施")) == {"济南"}
    assert places.regions(tok.words("内蒙古自治区农牧厅")) == {"内蒙古"}
    assert places.regions(tok.words("海淀区政务服务")) == {"海淀区"}
    assert places.regions(tok.words("全国统一的社会保险政策")) == frozenset()
    q = places.query_regions(tok.words("山东省审批"))
    assert q.named == q.within == {"山东"}


def test_gazetteer_adds_the_hierarchy():
    places = default_places().copy().add_gazetteer(Gazetteer.demo())
    tok = Tokenizer(places.words())
    assert places.regions(tok.words("云湖区湖滨街道")) == {"云湖区", "云州"}
    query = places.query_regions(tok.words("云湖区的停车位"))
    assert query.named == {"云湖区"} and query.within == {"云湖区", "云州"}
    # same district: up; a sibling district of the same city: unchanged; another province: down
    assert rerank_factor(query, places.regions(tok.words("云湖区停车"))) == SAME_REGION_BOOST
    assert rerank_factor(query, places.regions(tok.words("东山区停车"))) == 1.0
    assert rerank_factor(query, places.regions(tok.words("河南省停车"))) == OTHER_REGION_PENALTY
    assert rerank_factor(query, frozenset()) == 1.0
    # the default table is shared and stays untouched by copies
    assert "云湖区" not in default_places().regions_of


def test_configured_places_include_the_demo_city_and_settings(tmp_path, monkeypatch):
    names = tmp_path / "places.txt"
    names.write_text("青松县\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_ROUTING_PLACE_NAMES_TXT", str(names))
    places = configured_places()
    assert places.is_place("云湖区") and places.is_place("青松县")


def test_a_division_named_like_a_common_noun_is_no_place():
    gaz = Gazetteer.demo()
    city = gaz.add("阳泉市", "city")
    gaz.add("城区", "district", parent=city)  # a real district of 阳泉市 (and of other cities)
    gaz.add("平定县", "district", parent=city)
    places = default_places().copy().add_gazetteer(gaz)
    assert places.is_place("阳泉市") and places.is_place("平定县") and not places.is_place("城区")


async def test_sibling_district_beats_another_city_with_the_gazetteer():
    places = default_places().copy().add_gazetteer(Gazetteer.demo())
    index = EmbeddedSearchIndex(None, places=places)
    await index.open()
    await index.upsert([
        art(1, "东山区公共停车场收费标准：每小时两元。"),
        art(2, "杭州市公共停车场收费标准：每小时两元，夜间停车免费。"),
        art(3, "云湖区公共停车场收费标准：每小时三元。"),
    ])
    ranked = [h.ref_id for h in (await index.search("云湖区公共停车场收费标准")).hits]
    assert ranked == ["3", "1", "2"]
