{{- define "davy.name" -}}davy{{- end -}}

{{- define "davy.fullname" -}}
{{- if contains "davy" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-davy" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "davy.labels" -}}
app.kubernetes.io/name: davy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "davy.selector" -}}
app.kubernetes.io/name: davy
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "davy.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Namespaces never acted on or checked, beside the built-in system ones. */}}
{{- define "davy.exemptNamespaces" -}}
{{- $ns := list .Release.Namespace -}}
{{- range .Values.exemptNamespaces }}{{ $ns = append $ns . }}{{ end -}}
{{- $ns | uniq | toJson -}}
{{- end -}}
