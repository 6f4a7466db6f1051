// Package plan computes the changes that bring the cloud from its observed
// state to the desired state, from desired (a schema.Fleet) + observed (an
// Observed snapshot) inputs, and holds the model of that observed state.
//
// The observed model (observed.go) is plain data: it carries no JSON tags
// and no SDK types. Its versioned, stable JSON form lives in snapshot.go, so
// `ecsnet observe` can write a snapshot that a later plan reads offline.
// Diff, ordering and the executor live in files of their own; the executor
// declares the small interface it needs from a cloud, and package ecs's
// Client satisfies it.
package plan
