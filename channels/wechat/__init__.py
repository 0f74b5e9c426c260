"""WeChat public account (公众号) channel."""
