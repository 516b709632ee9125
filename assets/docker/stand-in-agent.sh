#!/bin/sh
# Stand-in agent CLI for images built with AGENT_SOURCE=stand-in (CI, demos without npm): it
# reports how it was called and exits 0, so the whole launch path runs without a model.
echo "bot-bottle stand-in agent: $(basename "$0") $*"
exit 0
