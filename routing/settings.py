"""Routing settings (environment prefix ``HOTLINE_ROUTING_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class RoutingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_ROUTING_", extra="ignore")

    # Auto-dispatch only when the unit's confidence reaches this value.
    auto_threshold: float = 0.75
    # How often suggest() looks at models/ACTIVE for a newly activated model.
    reload_check_seconds: float = 5.0
    # Extra gazetteers for a real city: a CSV like routing/data/gazetteer_yunzhou.csv,
    # a folder with China's divisions (provinces/cities/areas/streets.csv), a plain name list.
    gazetteer_csv: Path | None = None
    admin_divisions_dir: Path | None = None
    place_names_txt: Path | None = None
    # Load the fictional demo city 云州市 (routing/data/gazetteer_yunzhou.csv) too. A real city's install that
    # configures its own gazetteer above sets this to false, so that no text is placed in 云州市.
    demo_gazetteer: bool = True
