"""The live preview page: a small web server inside `posed run`, off by default.

Importing this package loads nothing heavy: aiohttp is imported by `posed.preview.server`
alone, and only when the page is enabled.
"""
