from source_claude.source import SourceClaude

__all__ = ["SourceClaude"]
