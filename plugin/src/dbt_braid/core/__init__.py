"""The bottom layer: what every stage shares and nothing of braid's is imported by.

The data types (:mod:`.assets`: PythonAsset, Relation; :mod:`.results`: NodeResult,
RunReport; :mod:`.windows`: partition windows; :mod:`.errors`), the function reference that
imports on first use (:mod:`.loader`) and pluggy's markers (:mod:`.markers`).
"""
