"""Portable cases (docs/cases.md): a scenario with everything it runs on, in one file.

`contents` (which project files a scenario needs), `manifest` (what a case holds, with
each file's sha256 and size), `pack` (the file written), `unpack` (the checked way back:
nothing is used before every entry is safe and matches the manifest).
"""
