{{/* Chart name, at most 63 characters. */}}
{{- define "ragkube.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name, at most 63 characters (a DNS label). */}}
{{- define "ragkube.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart label value. */}}
{{- define "ragkube.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator's pods. */}}
{{- define "ragkube.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ragkube.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Standard labels of every object of the chart. */}}
{{- define "ragkube.labels" -}}
helm.sh/chart: {{ include "ragkube.chart" . }}
{{ include "ragkube.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: ragkube
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Name of the operator's ServiceAccount. */}}
{{- define "ragkube.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ragkube.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Whether kopf peering is on: asked for, or needed by more than one replica. */}}
{{- define "ragkube.peering" -}}
{{- if or .Values.peering.enabled (gt (int .Values.replicaCount) 1) }}true{{- end }}
{{- end }}
