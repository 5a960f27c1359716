"""Typed spec models of the ragkube.dev/v1alpha1 custom resources: one model per CRD.

The CRDs in `crds/` are generated from these models by `python -m ragkube_operator.crdgen`,
and a unit test fails when the files and the models drift apart. Field names in Kubernetes
are camelCase; the models use snake_case attributes with camelCase aliases. Constraints are
written once, here: `Field(ge=..., le=...)` become `minimum`/`maximum`, `Literal` becomes
`enum`, defaults become schema defaults, and cross-field rules are CEL expressions
(`x-kubernetes-validations`) that the API server checks before the operator sees anything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from ragkube_contract import settings as shared
from ragkube_contract.settings import EmbeddingsProvider, RetrievalMode

GROUP: Final = "ragkube.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

#: Events a Webhook may subscribe to; the API image emits exactly these.
WebhookEvent = Literal["query.completed", "query.failed", "document.ingested", "document.deleted"]
WEBHOOK_EVENTS: Final[tuple[str, ...]] = get_args(WebhookEvent)

#: A Kubernetes resource quantity such as `500m`, `2`, `1Gi`: a string or an integer.
Quantity = Annotated[
    str | int,
    Field(json_schema_extra={"x-kubernetes-int-or-string": True}),
]
#: A Kubernetes object name (DNS-1123 subdomain, short enough to prefix child names).
ObjectName = Annotated[
    str,
    Field(min_length=1, max_length=40, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
]
#: The name of an existing object the user references (DNS-1123 subdomain, as Kubernetes allows).
ReferencedName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    ),
]
#: A Go duration as Prometheus understands it (`30s`, `1m`).
Duration = Annotated[str, Field(pattern=r"^[0-9]+(ms|s|m|h)$")]


def _cel(rule: str, message: str) -> dict[str, Any]:
    return {"x-kubernetes-validations": [{"rule": rule, "message": message}]}


class SpecModel(BaseModel):
    """Base of every spec model: camelCase in Kubernetes, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class SecretKeyRef(SpecModel):
    """A key in a Secret in the RagDeployment's namespace."""

    name: ReferencedName = Field(description="Name of the Secret.")
    key: str = Field(
        min_length=1, max_length=253, description="Key in the Secret whose value is used."
    )


class ResourceRequirements(SpecModel):
    """Compute resources of a container, as in a Pod spec."""

    requests: dict[str, Quantity] = Field(default_factory=dict)
    limits: dict[str, Quantity] = Field(default_factory=dict)


class EnvVar(SpecModel):
    """An extra environment variable for the API container (plain value only)."""

    name: str = Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
    value: str = Field(default="", max_length=4096)


class Autoscaling(SpecModel):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU for the API Deployment."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "self.minReplicas <= self.maxReplicas",
            "autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas",
        )
    )

    enabled: bool = False
    min_replicas: int = Field(default=2, ge=1, le=100)
    max_replicas: int = Field(default=5, ge=1, le=100)
    target_cpu_utilization_percentage: int = Field(
        default=70, ge=1, le=100, alias="targetCPUUtilizationPercentage"
    )

    # The CEL rule above guards the API server; this guards objects that never passed it
    # (an API server without CEL, or the operator's own callers).
    @model_validator(mode="after")
    def _min_within_max(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                "autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas"
            )
        return self


class Cors(SpecModel):
    """Origins allowed to call the API from a browser."""

    allowed_origins: list[Annotated[str, Field(max_length=253)]] = Field(
        default_factory=list, max_length=50
    )


def _default_api_resources() -> ResourceRequirements:
    return ResourceRequirements(
        requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "1Gi"}
    )


class ApiSpec(SpecModel):
    """The API Deployment."""

    image: str = Field(default="ghcr.io/ragkube/api:0.1.0", min_length=1, max_length=512)
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    replicas: int = Field(default=2, ge=0, le=100)
    resources: ResourceRequirements = Field(default_factory=_default_api_resources)
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    cors: Cors = Field(default_factory=Cors)
    # A list keyed by name, as in a Pod spec: the API server refuses a name given twice,
    # which server-side apply of the Deployment could not merge.
    env: list[EnvVar] = Field(
        default_factory=list,
        max_length=50,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _env_names_unique(self) -> ApiSpec:
        names = [env.name for env in self.env]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"api.env names each variable once; given more than once: {twice}")
        return self


class EmbeddingsSpec(SpecModel):
    """The embedding model; its vector dimension is known for built-in models."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "self.provider == 'local' || has(self.dimension)",
            "embeddings.dimension is required when embeddings.provider is openai-compatible",
        )
    )

    provider: EmbeddingsProvider = shared.EMBEDDINGS_PROVIDER.field()
    model: str = shared.EMBEDDINGS_MODEL.field(min_length=1, max_length=253)
    dimension: int | None = Field(
        default=None, ge=1, le=65536, description="Vector size; needed for unknown models."
    )

    @model_validator(mode="after")
    def _dimension_for_remote_models(self) -> EmbeddingsSpec:
        if self.provider != "local" and self.dimension is None:
            raise ValueError(
                "embeddings.dimension is required when embeddings.provider is openai-compatible"
            )
        return self


class LlmSpec(SpecModel):
    """The answer generator: extractive (no model) or an OpenAI-compatible server."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "self.provider == 'extractive' || (has(self.model) && size(self.model) > 0)",
            "llm.model is required when llm.provider is openai-compatible",
        )
    )

    provider: Literal["extractive", "openai-compatible"] = "extractive"
    model: str | None = Field(default=None, max_length=253)
    base_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://", alias="baseURL"
    )
    api_key_secret_ref: SecretKeyRef | None = None
    timeout_seconds: int = shared.LLM_TIMEOUT_SECONDS.field(ge=1, le=600)


class RetrievalSpec(SpecModel):
    """How documents are chunked and retrieved."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "self.chunkOverlap < self.chunkSize",
            "retrieval.chunkOverlap must be smaller than retrieval.chunkSize",
        )
    )

    # Default, bounds and meaning as the API has them (ragkube_contract.settings).
    mode: RetrievalMode = shared.RETRIEVAL_MODE.field()
    top_k: int = shared.RETRIEVAL_TOP_K.field(alias="topK")
    threshold: float = shared.RETRIEVAL_THRESHOLD.field()
    fusion_dense_weight: float = shared.RETRIEVAL_FUSION_DENSE_WEIGHT.field()
    chunk_size: int = shared.CHUNK_SIZE.field()
    chunk_overlap: int = shared.CHUNK_OVERLAP.field()

    @model_validator(mode="after")
    def _overlap_below_size(self) -> RetrievalSpec:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("retrieval.chunkOverlap must be smaller than retrieval.chunkSize")
        return self


class ChromaStorage(SpecModel):
    """The Chroma StatefulSet's volume claim."""

    size: str = Field(default="1Gi", pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$")
    storage_class_name: str | None = Field(default=None, max_length=253)


def _default_chroma_resources() -> ResourceRequirements:
    return ResourceRequirements(
        requests={"cpu": "100m", "memory": "256Mi"}, limits={"memory": "1Gi"}
    )


class ChromaSpec(SpecModel):
    """The Chroma vector store, one replica in a StatefulSet."""

    image: str = Field(default="chromadb/chroma:1.0.20", min_length=1, max_length=512)
    collection_name: str = Field(default="documents", min_length=3, max_length=63)
    storage: ChromaStorage = Field(default_factory=ChromaStorage)
    resources: ResourceRequirements = Field(default_factory=_default_chroma_resources)


class LexicalIndexStorage(ChromaStorage):
    """The lexical index server's volume claim (one tantivy index per collection)."""


def _default_lexical_index_resources() -> ResourceRequirements:
    return ResourceRequirements(
        requests={"cpu": "50m", "memory": "128Mi"}, limits={"memory": "1Gi"}
    )


class LexicalIndexSpec(SpecModel):
    """The lexical index server (BM25), one replica in a StatefulSet of its own.

    It runs the API image (`spec.api.image`) with `python -m ragkube_index`, so the server
    and the API pods that query it never disagree on the index format.
    """

    storage: LexicalIndexStorage = Field(default_factory=LexicalIndexStorage)
    resources: ResourceRequirements = Field(default_factory=_default_lexical_index_resources)


class VectorStoreSpec(SpecModel):
    """The storage tier: Chroma (dense vectors) and the lexical index server (BM25)."""

    chroma: ChromaSpec = Field(default_factory=ChromaSpec)
    lexical_index: LexicalIndexSpec = Field(default_factory=LexicalIndexSpec)


class AuthSpec(SpecModel):
    """Signing of access tokens and the users allowed to log in."""

    jwt_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Signing key; generated once and kept when absent."
    )
    users_secret_ref: SecretKeyRef | None = Field(
        default=None, description="A users.json file of bcrypt hashes, mounted into API pods."
    )
    token_ttl_minutes: int = shared.JWT_EXPIRE_MINUTES.field(alias="tokenTTLMinutes")


class RateLimitSpec(SpecModel):
    """Requests allowed per client in a window."""

    requests: int = shared.RATE_LIMIT_REQUESTS.field()
    window_seconds: int = shared.RATE_LIMIT_WINDOW.field()


class RedisStorage(ChromaStorage):
    """The managed Redis StatefulSet's volume claim (its append-only file)."""


def _default_redis_resources() -> ResourceRequirements:
    return ResourceRequirements(
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "256Mi"}
    )


class RedisSpec(SpecModel):
    """Shared state across API replicas (limits, cache, durable webhook deliveries)."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "!(self.managed && has(self.urlSecretRef))",
            "redis.managed and redis.urlSecretRef are alternatives; set one of them",
        )
    )

    managed: bool = Field(
        default=False,
        description=(
            "Run a Redis StatefulSet for this deployment (password generated into "
            "<name>-secrets, reachable only from its API pods) and point the API at it."
        ),
    )
    url_secret_ref: SecretKeyRef | None = Field(
        default=None, description="A Secret key holding the URL of a Redis you run yourself."
    )
    image: str = Field(default="redis:7.4.5", min_length=1, max_length=512)
    storage: RedisStorage = Field(default_factory=RedisStorage)
    resources: ResourceRequirements = Field(default_factory=_default_redis_resources)

    @model_validator(mode="after")
    def _one_source(self) -> RedisSpec:
        if self.managed and self.url_secret_ref is not None:
            raise ValueError(
                "redis.managed and redis.urlSecretRef are alternatives; set one of them"
            )
        return self

    @property
    def configured(self) -> bool:
        """Whether the API pods get a Redis (managed or the user's own)."""
        return self.managed or self.url_secret_ref is not None


#: A host name as in an Ingress rule or an HTTPRoute (DNS-1123 subdomain, `*.` wildcard).
HostName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    ),
]
#: A URL path prefix under which the API is published.
PathPrefix = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^/[^\s?#]*$")]
#: An IP address or CIDR block (CEL's `isIP`/`isCIDR` check it in the API server).
ProxyRange = Annotated[
    str,
    Field(
        min_length=2,
        max_length=43,
        json_schema_extra=_cel(
            "isIP(self) || isCIDR(self)", "each trusted proxy is an IP address or a CIDR block"
        ),
    ),
]


class CertManagerIssuer(SpecModel):
    """A cert-manager issuer that obtains the certificate (its ingress-shim annotation)."""

    kind: Literal["ClusterIssuer", "Issuer"] = "ClusterIssuer"
    name: ReferencedName


class IngressTls(SpecModel):
    """TLS for the Ingress: an existing certificate Secret, or one cert-manager issues."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "has(self.secretName) || has(self.certManager)",
            "exposure.ingress.tls needs secretName (an existing certificate) or certManager "
            "(an issuer that creates one)",
        )
    )

    secret_name: ReferencedName | None = Field(
        default=None,
        description="Secret of type kubernetes.io/tls; where cert-manager stores the "
        "certificate when certManager is set (default <name>-api-tls).",
    )
    cert_manager: CertManagerIssuer | None = None

    @model_validator(mode="after")
    def _source(self) -> IngressTls:
        if self.secret_name is None and self.cert_manager is None:
            raise ValueError(
                "exposure.ingress.tls needs secretName (an existing certificate) or "
                "certManager (an issuer that creates one)"
            )
        return self


class IngressExposure(SpecModel):
    """A networking.k8s.io/v1 Ingress in front of the API Service."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "!has(self.tls) || has(self.host)",
            "exposure.ingress.tls needs exposure.ingress.host: a certificate is for a host name",
        )
    )

    ingress_class_name: ReferencedName | None = Field(
        default=None, description="The IngressClass; the cluster's default class when absent."
    )
    host: HostName | None = None
    path: PathPrefix = Field(
        default="/",
        description="Path prefix routed to the API; the API's routes are at its root, so a "
        "prefix other than / needs the controller's rewrite annotation.",
    )
    annotations: dict[str, Annotated[str, Field(max_length=4096)]] = Field(
        default_factory=dict,
        max_length=50,
        description="Added to the Ingress; they win over the operator's streaming defaults.",
    )
    tls: IngressTls | None = None

    @model_validator(mode="after")
    def _tls_needs_host(self) -> IngressExposure:
        if self.tls is not None and self.host is None:
            raise ValueError(
                "exposure.ingress.tls needs exposure.ingress.host: a certificate is for a host name"
            )
        return self


class GatewayParentRef(SpecModel):
    """A Gateway (or a listener of one) the HTTPRoute attaches to."""

    name: ReferencedName
    namespace: ReferencedName | None = Field(
        default=None, description="The Gateway's namespace; the RagDeployment's when absent."
    )
    section_name: ReferencedName | None = Field(
        default=None, description="A listener of the Gateway, by name."
    )


class HttpRouteExposure(SpecModel):
    """A Gateway API (gateway.networking.k8s.io/v1) HTTPRoute to the API Service."""

    parent_refs: list[GatewayParentRef] = Field(min_length=1, max_length=32)
    hostnames: list[HostName] = Field(default_factory=list, max_length=16)
    path: PathPrefix = Field(
        default="/", description="Path prefix routed to the API (rewritten to / on the way)."
    )


class ExposureSpec(SpecModel):
    """How the API is reached from outside the cluster: an Ingress or an HTTPRoute."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "!(has(self.ingress) && has(self.httpRoute))",
            "exposure.ingress and exposure.httpRoute are alternatives; set only one of them",
        )
    )

    ingress: IngressExposure | None = None
    http_route: HttpRouteExposure | None = Field(default=None, alias="httpRoute")
    timeout_seconds: int = Field(
        default=300,
        ge=1,
        le=3600,
        description="How long the proxy waits on the API; a streamed answer (/query/stream) "
        "keeps its request open while the LLM writes.",
    )
    trusted_proxies: list[ProxyRange] = Field(
        default_factory=list,
        max_length=32,
        description="Addresses or CIDR blocks of the proxies (ingress controller, gateway) "
        "whose X-Forwarded-For the API believes; without them every client behind the proxy "
        "shares one rate-limit bucket.",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ExposureSpec:
        if self.ingress is not None and self.http_route is not None:
            raise ValueError(
                "exposure.ingress and exposure.httpRoute are alternatives; set only one of them"
            )
        for item in self.trusted_proxies:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as error:
                raise ValueError("each trusted proxy is an IP address or a CIDR block") from error
        return self


class GuardrailsSpec(SpecModel):
    """Input and output checks."""

    enabled: bool = shared.GUARDRAILS_ENABLED.field()
    blocked_patterns: list[Annotated[str, Field(max_length=512)]] = Field(
        default_factory=list, max_length=100
    )


class ServiceMonitorSpec(SpecModel):
    """A Prometheus Operator ServiceMonitor scraping the API's /metrics."""

    enabled: bool = False
    interval: Duration = "30s"
    labels: dict[str, str] = Field(default_factory=dict)


class PrometheusRuleSpec(SpecModel):
    """A Prometheus Operator PrometheusRule with the basic alerts."""

    enabled: bool = False
    labels: dict[str, str] = Field(default_factory=dict)


class MonitoringSpec(SpecModel):
    """Prometheus Operator objects; configured only where its CRDs are installed."""

    service_monitor: ServiceMonitorSpec = Field(default_factory=ServiceMonitorSpec)
    prometheus_rule: PrometheusRuleSpec = Field(default_factory=PrometheusRuleSpec)


class DisruptionBudgetSpec(SpecModel):
    """A PodDisruptionBudget for the API pods."""

    enabled: bool = True
    max_unavailable: int = Field(default=1, ge=1, le=100)


class NetworkPolicySpec(SpecModel):
    """NetworkPolicies letting only this deployment's API pods reach its Chroma and Redis."""

    enabled: bool = True


class RagDeploymentSpec(SpecModel):
    """Desired state of one RAG service: API, vector store, models and policies."""

    environment: Literal["development", "production"] = "production"
    api: ApiSpec = Field(default_factory=ApiSpec)
    embeddings: EmbeddingsSpec = Field(default_factory=EmbeddingsSpec)
    llm: LlmSpec = Field(default_factory=LlmSpec)
    retrieval: RetrievalSpec = Field(default_factory=RetrievalSpec)
    vector_store: VectorStoreSpec = Field(default_factory=VectorStoreSpec)
    auth: AuthSpec = Field(default_factory=AuthSpec)
    rate_limit: RateLimitSpec = Field(default_factory=RateLimitSpec)
    redis: RedisSpec = Field(default_factory=RedisSpec)
    guardrails: GuardrailsSpec = Field(default_factory=GuardrailsSpec)
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    disruption_budget: DisruptionBudgetSpec = Field(default_factory=DisruptionBudgetSpec)
    network_policy: NetworkPolicySpec = Field(default_factory=NetworkPolicySpec)
    exposure: ExposureSpec = Field(default_factory=ExposureSpec)


class WebhookRef(SpecModel):
    """The RagDeployment, in the same namespace, whose API sends the events."""

    name: ObjectName


class WebhookSpec(SpecModel):
    """An HTTP endpoint that receives HMAC-signed events from a RagDeployment's API."""

    model_config = ConfigDict(
        json_schema_extra=_cel(
            "self.url.startsWith('https://') || self.allowInsecureHttp",
            "url must use https:// (set allowInsecureHttp: true to allow http://)",
        )
    )

    rag_deployment_ref: WebhookRef
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://[^\s/]+")
    events: list[WebhookEvent] = Field(
        min_length=1,
        max_length=len(WEBHOOK_EVENTS),
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    secret_ref: SecretKeyRef = Field(description="Key used to sign deliveries (HMAC-SHA256).")
    allow_insecure_http: bool = False


class Resource(BaseModel):
    """One custom resource kind and how it is published in its CRD."""

    model_config = ConfigDict(frozen=True)

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec: type[SpecModel]
    status_properties: dict[str, Any]
    printer_columns: tuple[dict[str, Any], ...]
    #: CEL rules on the whole object (they may read metadata.name).
    root_validations: tuple[dict[str, str], ...] = ()


def _conditions_schema() -> dict[str, Any]:
    return {
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": {
            "type": "object",
            "required": ["type", "status", "reason", "message", "lastTransitionTime"],
            "properties": {
                "type": {"type": "string", "maxLength": 316},
                "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                "reason": {"type": "string", "maxLength": 1024},
                "message": {"type": "string", "maxLength": 32768},
                "lastTransitionTime": {"type": "string", "format": "date-time"},
                "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
            },
        },
    }


RAG_DEPLOYMENT: Final = Resource(
    kind="RagDeployment",
    plural="ragdeployments",
    singular="ragdeployment",
    short_names=("rd", "rags"),
    spec=RagDeploymentSpec,
    status_properties={
        "phase": {
            "type": "string",
            "enum": ["Pending", "Progressing", "Ready", "Degraded", "Failed"],
        },
        "ready": {"type": "string", "description": "readyReplicas/replicas, for kubectl get."},
        "conditions": _conditions_schema(),
        "endpoint": {"type": "string", "description": "The in-cluster URL of the API."},
        "url": {
            "type": "string",
            "description": "The external URL (spec.exposure), when a host name is known.",
        },
        "replicas": {"type": "integer", "format": "int32", "minimum": 0},
        "readyReplicas": {"type": "integer", "format": "int32", "minimum": 0},
        "embeddingModel": {"type": "string"},
        "embeddingDimension": {"type": "integer", "format": "int32", "minimum": 0},
        "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
    },
    printer_columns=(
        {"name": "Ready", "type": "string", "jsonPath": ".status.ready"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas"},
        {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoint"},
        {"name": "URL", "type": "string", "jsonPath": ".status.url"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ),
    root_validations=(
        {
            # Child names append up to 23 characters (`-chroma-0`, a revision hash), and
            # Service names must be DNS-1035 labels of at most 63 characters.
            "rule": "size(self.metadata.name) <= 40 && "
            "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
            "message": "metadata.name must start with a letter, contain only lowercase "
            "letters, digits and '-', and be at most 40 characters long",
        },
    ),
)

WEBHOOK: Final = Resource(
    kind="Webhook",
    plural="webhooks",
    singular="webhook",
    short_names=("rwh",),
    spec=WebhookSpec,
    status_properties={
        "conditions": _conditions_schema(),
        "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
    },
    printer_columns=(
        {"name": "RagDeployment", "type": "string", "jsonPath": ".spec.ragDeploymentRef.name"},
        {"name": "URL", "type": "string", "jsonPath": ".spec.url"},
        {
            "name": "Accepted",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Accepted")].status',
        },
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ),
)

RESOURCES: Final = (RAG_DEPLOYMENT, WEBHOOK)


class RagDeployment(BaseModel):
    """A RagDeployment as the builders see it: identity plus the validated spec."""

    model_config = ConfigDict(frozen=True)

    name: str
    namespace: str
    uid: str = ""
    generation: int = 0
    spec: RagDeploymentSpec

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> RagDeployment:
        """Validate a RagDeployment object read from the API (raises pydantic errors)."""
        metadata = body["metadata"]
        return cls(
            name=metadata["name"],
            namespace=metadata["namespace"],
            uid=metadata.get("uid", ""),
            generation=metadata.get("generation", 0),
            spec=RagDeploymentSpec.model_validate(dict(body.get("spec") or {})),
        )


class Webhook(BaseModel):
    """A Webhook as the renderer sees it."""

    model_config = ConfigDict(frozen=True)

    name: str
    namespace: str
    spec: WebhookSpec

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Webhook:
        """Validate a Webhook object read from the API (raises pydantic errors)."""
        metadata = body["metadata"]
        return cls(
            name=metadata["name"],
            namespace=metadata["namespace"],
            spec=WebhookSpec.model_validate(dict(body.get("spec") or {})),
        )
