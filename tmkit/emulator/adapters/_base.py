"""The shape every adapter shares: a CloudFormation resource backed by a real object in moto.

moto registers a CloudFormation type for every class that inherits *directly* from
``CloudFormationModel``; an adapter is ``class X(Adapter, CloudFormationModel)`` and implements
``create(ctx, name, props) -> (physical_id, attrs)``, ``update(resource, props)`` and ``remove(resource)``.
The instance moto keeps in the stack's resource map is the adapter itself: its
``physical_resource_id`` answers ``Ref``, ``attrs`` answers ``Fn::GetAtt``, and ``delete()`` removes the
real object when the stack (or the resource) goes away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.utilities.utils import get_partition


@dataclass(frozen=True)
class Ctx:
    account_id: str
    region: str

    @property
    def partition(self) -> str:
        return get_partition(self.region)


class Adapter:
    CFN_TYPE: ClassVar[str] = ""
    NAME_PROP: ClassVar[str] = ""  # the property that names the resource, if any
    # The replacement reuses the old object's key (a stage name, a budget name...): remove the old one first.
    REMOVE_BEFORE_REPLACE: ClassVar[bool] = False
    ATTRS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: Ctx, name: str, physical_id: str, attrs: dict[str, Any], props: dict[str, Any]):
        self.ctx = ctx
        self.name = name
        self.physical_id = physical_id
        self.attrs = attrs
        self.props = props

    # ---- what each adapter implements --------------------------------------------------------
    @classmethod
    def create(cls, ctx: Ctx, name: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    @classmethod
    def update(cls, resource: Adapter, props: dict[str, Any]) -> Adapter:
        """Default: replace (create the new object, then remove the old one), as CloudFormation does."""
        name = props.get(cls.NAME_PROP) or resource.name
        if cls.REMOVE_BEFORE_REPLACE:
            cls.remove(resource)
            return cls._build(resource.ctx, name, props)
        new = cls._build(resource.ctx, name, props)
        cls.remove(resource)
        return new

    @classmethod
    def remove(cls, resource: Adapter) -> None:
        """Delete the real object; must not fail when it is already gone."""

    # ---- the CloudFormationModel interface moto calls ----------------------------------------
    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROP

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRS

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attrs:
            raise UnformattedGetAttTemplateException()
        return self.attrs[attribute_name]

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return True

    @classmethod
    def _updated_in_place(cls, resource: Adapter, props: dict[str, Any]) -> Adapter:
        """The same real object (same physical id and attributes), now described by ``props``."""
        return cls(resource.ctx, resource.name, resource.physical_id, resource.attrs, props)

    @classmethod
    def _build(cls, ctx: Ctx, name: str, props: dict[str, Any]) -> Adapter:
        physical_id, attrs = cls.create(ctx, name, props)
        return cls(ctx, name, physical_id, attrs, props)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return cls._build(Ctx(account_id, region_name), resource_name, cloudformation_json.get("Properties") or {})

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        props = cloudformation_json.get("Properties") or {}
        if isinstance(original_resource, Adapter):
            return cls.update(original_resource, props)
        return cls._build(Ctx(account_id, region_name), new_resource_name, props)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        """Only reached when moto holds no adapter instance (nothing was created): nothing to do."""

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            type(self).remove(self)
        except (TypeError, AttributeError) as exc:
            # moto's caller swallows these two (it takes them for "no delete() here"): surface them.
            raise RuntimeError(f"deleting {self.CFN_TYPE} {self.physical_id}: {exc!r}") from exc


def tags_list(props: dict[str, Any], key: str = "Tags") -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in props.get(key) or []]


def tags_dict(props: dict[str, Any], key: str = "Tags") -> dict[str, str]:
    raw = props.get(key) or {}
    if isinstance(raw, dict):
        return dict(raw)
    return {t["Key"]: t["Value"] for t in raw}
