"""Demo knowledge base for the fictional city 云州市 (written for this project)."""

from pathlib import Path

DEMO_ARTICLES = Path(__file__).with_name("demo_articles.csv")
