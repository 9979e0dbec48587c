"""Personal data in customer files: keyed, consistent, format-preserving pseudonyms
(`repro redact`) and a scan for what the rules missed (`repro audit`); docs/privacy.md."""
