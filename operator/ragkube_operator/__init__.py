"""The ragkube operator: reconciles RagDeployment and Webhook resources (group ragkube.dev).

`main` holds only kopf decorators; builders of child objects are pure functions in modules
named after what they build; `kubeapi` is the only module that talks to the Kubernetes API.
"""
