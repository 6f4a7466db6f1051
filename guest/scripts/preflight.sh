
# ---- ecsnet payload preflight (the same in every Linux payload) ----

# p_preflight runs before the payload changes anything. It looks for
# network managers that would undo or fight ecsnet's configuration and
# reports each; with one that would undo it at the next boot it ends the
# run as refused, unless ALLOW_COMPETING=1 (push/apply --allow-competing).
# (Issue 15, "Preflight on the host": the checks are being written; until
# then it finds nothing.)
p_preflight() {
	:
}
