"""Chirp's benchmarks: the workloads that say how fast Chirp is, against this machine's own ceiling.

`python -m bench` (make bench) brings up the real mesh on its own ports and data directory, seeds a
dataset from a fixed random seed, measures a bare grpc.aio echo service behind the same Envoy (the
ceiling), then runs every scenario of issue #6 with an open-loop generator at fixed offered rates,
swept upwards, and writes bench/results/<date>-<commit>.{json,md,png}. See bench/README.md.
"""
