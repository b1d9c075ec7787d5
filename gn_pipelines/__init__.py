"""gn-pipelines: the Gyeongsangnam-do big data analysis center's data platform.

Kept empty on purpose: importing the package must stay cheap so the code location loads fast.
"""
