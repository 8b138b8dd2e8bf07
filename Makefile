# The two commands of README.md: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3

.PHONY: setup demo run test lint bench catalogs

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,voice,charts]'
	touch $@

demo: setup          ## the bot in the terminal, embedded artis.net and store
	$(VENV)/bin/crmbot run

test: setup          ## services (Redis, Chromium), lint, the whole suite
	bash .ci/services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

bench: setup         ## ours vs aiogram over loopback HTTP (creates bench/.venv-aiogram): messages, buttons, the rep's day; then the rest
	bash .ci/services.sh
	$(VENV)/bin/python bench/bench_vs_aiogram.py
	$(VENV)/bin/python bench/bench_day.py
	$(VENV)/bin/python bench/bench_pipeline.py
	$(VENV)/bin/python bench/bench_store.py

catalogs: setup      ## re-extract texts, compile the .mo; translate bot/locales/*/LC_MESSAGES/messages.po, run it again
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location \
		--sort-output -w 100 -o bot/locales/messages.pot .
	$(VENV)/bin/pybabel update -i bot/locales/messages.pot -d bot/locales -N --no-fuzzy-matching --ignore-obsolete -w 100
	$(VENV)/bin/python -c "from bot.i18n import compile_catalogs; compile_catalogs()"
