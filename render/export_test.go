package render

// The real-tool helpers of realtool_test.go, for TestRealPayload
// (payload_real_test.go, package render_test): it delivers guest's
// payloads, and guest imports render, so it cannot live in package render.
var (
	RtExampleHosts = rtExampleHosts
	RtRunnable     = rtRunnable
	RtNetns        = rtNetns
	RtPrepare      = rtPrepare
	RtBundle       = rtBundle
	RtDrop         = rtDrop
	RtLive         = rtLive
	RtWant         = rtWant
	RtExpect       = rtExpect
	RtCheckMain    = rtCheckMain
)
