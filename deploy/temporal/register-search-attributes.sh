#!/bin/sh
# One-shot: registers NOP-IC's search attributes (NAME=TYPE arguments, the keys of
# workflows/contracts.py) in the namespace, once the Temporal frontend answers. Running it again
# is harmless: an attribute already there with the same type is left as it is.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"

tries=0
until temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "Temporal at $TEMPORAL_ADDRESS has no namespace $TEMPORAL_NAMESPACE after 120 s" >&2
    exit 1
  fi
  sleep 2
done

for pair in "$@"; do
  name=${pair%%=*}
  type=${pair#*=}
  if temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" \
      | grep -Eq "^[[:space:]]*$name[[:space:]]+$type[[:space:]]*$"; then
    echo "search attribute $name ($type) already registered"
    continue
  fi
  temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
    --name "$name" --type "$type"
  echo "search attribute $name ($type) registered"
done
