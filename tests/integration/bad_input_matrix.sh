#!/usr/bin/env bash
# Bad-input matrix (issue 11): tests/integration/bad_input_matrix.py starts a real adaspringd
# in user mode, keeps a healthy bystander session inferring, and checks the documented status
# of every bad request, session/token abuse, out-of-range SLO, admin call on the app socket,
# damaged model bundle and broken config file. Exit 77 (skipped) when a prerequisite is
# missing. Arguments: the source directory and the adaspringd binary.
set -euo pipefail
src="$1"
daemon="$2"
. "$src/tests/integration/python_prereqs.sh"
[ -x "$daemon" ] || { echo "no daemon binary at $daemon"; exit 1; }

exec "$py" "$src/tests/integration/bad_input_matrix.py" --daemon "$daemon" --source "$src"
