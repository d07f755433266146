"""The command line: `cloudrender` and its commands, wired to the Python API, the embedded
cluster and the monitoring tools. The top of the house: nothing imports it.
"""
