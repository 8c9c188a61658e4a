"""Fixes: each module turns a kind of finding into a planned change (:class:`trtdiag.model.Fix`);
:mod:`trtdiag.fixes.applier` is the one place changes are executed."""
