// Package v1alpha1 holds Davy's Kubernetes API types (group davy.dev): the
// MinerReport, one namespaced object per workload in which agents and the
// controller record the verdict, the evidence behind it and the actions
// taken. The CRD schema is deploy/crds/davy.dev_minerreports.yaml; keep the
// two in step (the tests create objects through a real API server).
package v1alpha1
