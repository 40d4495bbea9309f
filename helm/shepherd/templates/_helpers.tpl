{{- define "shepherd.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "shepherd.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "shepherd.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "shepherd.image" -}}
{{ .root.Values.image.repository }}/{{ .service }}:{{ .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- end -}}

{{- define "shepherd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (printf "%s-recovery" (include "shepherd.fullname" .)) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{/* The workers' service account, when they run kubernetes-job types. */}}
{{- define "shepherd.workerServiceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ printf "%s-worker" (include "shepherd.fullname" .) }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{- define "shepherd.rabbitSecret" -}}
{{ default (printf "%s-rabbitmq" (include "shepherd.fullname" .)) .Values.rabbitmq.existingSecret }}
{{- end -}}

{{- define "shepherd.policySecret" -}}
{{ default (printf "%s-policy" (include "shepherd.fullname" .)) .Values.security.existingSecret }}
{{- end -}}

{{- define "shepherd.redisSecret" -}}
{{ default (printf "%s-redis" (include "shepherd.fullname" .)) .Values.redis.existingSecret }}
{{- end -}}

{{- define "shepherd.distributionSecret" -}}
{{ default (printf "%s-distribution" (include "shepherd.fullname" .)) .Values.distribution.existingSecret }}
{{- end -}}

{{/* The callback key (ADR 45), for the scheduler and the workers with distributed types. */}}
{{- define "shepherd.distributionKey" -}}
{{- if or .Values.distribution.serverKey .Values.distribution.existingSecret }}
- name: SHEPHERD_DISTRIBUTION_SERVERKEY
  valueFrom:
    secretKeyRef: {name: {{ include "shepherd.distributionSecret" . }}, key: server-key}
{{- end }}
{{- end -}}

{{/* Environment every service shares: broker, Redis, prefix, pools, store settings. */}}
{{- define "shepherd.env" -}}
- name: SPRING_RABBITMQ_HOST
  value: {{ .Values.rabbitmq.host | quote }}
- name: SPRING_RABBITMQ_PORT
  value: {{ .Values.rabbitmq.port | quote }}
{{- if .Values.rabbitmq.addresses }}
- name: SPRING_RABBITMQ_ADDRESSES
  value: {{ .Values.rabbitmq.addresses | quote }}
- name: SPRING_RABBITMQ_ADDRESS_SHUFFLE_MODE
  value: random
{{- end }}
- name: SPRING_RABBITMQ_VIRTUAL_HOST
  value: {{ .Values.rabbitmq.virtualHost | quote }}
- name: SPRING_RABBITMQ_SSL_ENABLED
  value: {{ .Values.rabbitmq.tls.enabled | quote }}
{{- if .Values.redis.cluster.nodes }}
- name: SPRING_DATA_REDIS_CLUSTER_NODES
  value: {{ .Values.redis.cluster.nodes | quote }}
{{- else if .Values.redis.sentinel.master }}
- name: SPRING_DATA_REDIS_SENTINEL_MASTER
  value: {{ .Values.redis.sentinel.master | quote }}
- name: SPRING_DATA_REDIS_SENTINEL_NODES
  value: {{ .Values.redis.sentinel.nodes | quote }}
{{- else }}
- name: SPRING_DATA_REDIS_HOST
  value: {{ .Values.redis.host | quote }}
- name: SPRING_DATA_REDIS_PORT
  value: {{ .Values.redis.port | quote }}
{{- end }}
- name: SPRING_DATA_REDIS_SSL_ENABLED
  value: {{ .Values.redis.tls.enabled | quote }}
- name: SHEPHERD_MESSAGING_PREFIX
  value: {{ .Values.prefix | quote }}
- name: SHEPHERD_MESSAGING_DELIVERY_LIMIT
  value: {{ .Values.rabbitmq.deliveryLimit | quote }}
- name: SHEPHERD_STORE_PREFIX
  value: {{ .Values.prefix | quote }}
- name: SHEPHERD_STORE_PARTITIONS
  value: {{ .Values.store.partitions | quote }}
- name: SHEPHERD_STORE_LEASE_TTL
  value: {{ .Values.store.leaseTtl | quote }}
- name: SHEPHERD_STORE_RETENTION
  value: {{ .Values.store.retention | quote }}
- name: SHEPHERD_STORE_DEAD_RETENTION
  value: {{ .Values.store.deadRetention | quote }}
- name: SHEPHERD_STORE_REPLICAS_TO_ACKNOWLEDGE
  value: {{ .Values.store.replicasToAcknowledge | quote }}
{{- range .Values.workers }}
- name: SHEPHERD_MESSAGING_POOLS_{{ .pool | upper | replace "-" "_" }}
  value: {{ join "," .jobTypes | quote }}
{{- end }}
{{- if .Values.logging.json }}
- name: LOGGING_STRUCTURED_FORMAT_CONSOLE
  value: ecs
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The broker and Redis user of one service (root, user: scheduler, statusTracker, recovery or
worker): each connects with only its own permissions (docs/SECURITY.md). */}}
{{- define "shepherd.credentials" -}}
{{- $rabbit := index .root.Values.rabbitmq.users .user -}}
{{- $redis := index .root.Values.redis.users .user -}}
- name: SPRING_RABBITMQ_USERNAME
  value: {{ $rabbit.username | quote }}
- name: SPRING_RABBITMQ_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ include "shepherd.rabbitSecret" .root }}, key: {{ $rabbit.passwordKey }}}}
- name: SPRING_DATA_REDIS_USERNAME
  value: {{ $redis.username | quote }}
- name: SPRING_DATA_REDIS_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ include "shepherd.redisSecret" .root }}, key: {{ $redis.passwordKey }}}}
{{- end -}}

{{/* The pod template's annotations: a checksum of the chart's secrets, so pods restart when they
change, and the values' podAnnotations. */}}
{{- define "shepherd.podAnnotations" -}}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level settings every pod shares: the restricted Pod Security level, scheduling, pulls. */}}
{{- define "shepherd.podSpec" -}}
securityContext:
  runAsNonRoot: true
  seccompProfile: {type: RuntimeDefault}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "shepherd.envFrom" -}}
{{- with .Values.extraEnvFrom }}
envFrom: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "shepherd.probes" -}}
# http: the API (the scheduler's); management: the actuator's probes and metrics (ADR 40)
ports:
  - {name: http, containerPort: 8080}
  - {name: management, containerPort: 8090}
startupProbe:
  httpGet: {path: /actuator/health/liveness, port: management}
  periodSeconds: 5
  failureThreshold: 36
livenessProbe:
  httpGet: {path: /actuator/health/liveness, port: management}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /actuator/health/readiness, port: management}
  periodSeconds: 5
  failureThreshold: 3
{{- end -}}

{{- define "shepherd.securityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: {drop: [ALL]}
  seccompProfile: {type: RuntimeDefault}
{{- end -}}
