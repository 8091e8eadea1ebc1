"""Build the configured providers and resolve an agent's `model` (`NAME/model-id`) to one of them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from novaro_lite.config.settings import Settings
from novaro_lite.errors import ProviderError
from novaro_lite.outbound.upstream import Upstream
from novaro_lite.providers.anthropic import AnthropicProvider
from novaro_lite.providers.base import Provider
from novaro_lite.providers.demo import DemoProvider
from novaro_lite.providers.openai import OpenAIProvider


def build_providers(settings: Settings, upstream: Upstream) -> Mapping[str, Provider]:
    providers: dict[str, Provider] = {}
    for name, config in settings.providers.items():
        if config.kind == "openai":
            providers[name] = OpenAIProvider(name, config, upstream)
        elif config.kind == "anthropic":
            providers[name] = AnthropicProvider(name, config, upstream)
        else:
            providers[name] = DemoProvider(name)
    return MappingProxyType(providers)


def check_model(settings: Settings, model: str | None) -> None:
    """Raise ValueError unless `model` is None or names a configured provider."""
    if model is None:
        return
    name = model.partition("/")[0]
    if name not in settings.providers:
        raise ValueError(
            f"{model!r} names the provider {name!r}, which is not configured; configured: "
            f"{', '.join(settings.providers)}"
        )


def resolve(providers: Mapping[str, Provider], settings: Settings, model: str | None) -> tuple[Provider, str]:
    """Return the provider and model id for an agent's `model` (None: the default provider's model)."""
    name, _, model_id = (model or settings.defaults.provider).partition("/")
    provider = providers.get(name)
    if provider is None:
        raise ProviderError(f"The agent's model names the provider {name!r}, which is not configured.")
    model_id = model_id or provider.default_model
    if not model_id:
        raise ProviderError(f"The provider {name!r} has no model configured and the agent names none.")
    return provider, model_id
