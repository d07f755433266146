"""The leaf every package stands on: the exception tree, typed settings and shared names.

Lives here: `errors` (the one exception tree), `settings` (the only reader of the environment),
`names` (Celery task and queue names, job priorities). Imports nothing of ours.
"""
