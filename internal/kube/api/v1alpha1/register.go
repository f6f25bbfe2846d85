package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of these types.
var GroupVersion = schema.GroupVersion{Group: "davy.dev", Version: "v1alpha1"}

// SchemeBuilder registers the types with a runtime.Scheme, so clients built
// from that scheme can encode and decode them.
var SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

// AddToScheme adds the v1alpha1 types to a scheme.
var AddToScheme = SchemeBuilder.AddToScheme

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &MinerReport{}, &MinerReportList{})
	// The list options, watch events and the like, which a client needs for
	// this group version as for any other.
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
