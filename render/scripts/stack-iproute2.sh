
stack_preflight() { :; }
stack_check_nics() { :; }
stack_take_down() { :; }

stack_bring_up() {
	ecsnet_converge_ip
	ecsnet_enable_unit "$UNIT" "etc/ecsnet/$FLEET/ecsnet-ip.sh"
}

stack_verify() { return 0; }
stack_state() { :; }
