"""`repro new`: a draft scenario from a customer's support bundle.

`extract` unpacks the bundle (the data archives' checked walk, stricter: no links, no
devices), `sort` tells parameter exports, data, database dumps and logs apart, `propose`
reads the logs for a clock and an oracle, `write` puts the scenario together beside its
target and moves it in place only when complete (docs/bundles.md).
"""
