"""Shared AWS plumbing: the boto3 session (default credential chain only), tags, errors.

Credentials come from boto3's own chain (environment, profile, SSO, instance role); an
endpoint override comes from ``AWS_ENDPOINT_URL``, which boto3 reads itself.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, List

from ..errors import InvindexError
from .deps import need
from .spec import MANAGED_BY, TAG_CLUSTER, TAG_MANAGED, Spec


class Aws:
    """One session and its clients for one region, plus the cluster's tag filter."""

    def __init__(self, cluster: str, region: str = "", profile: str = "",
                 session: Any = None) -> None:
        boto3 = need("boto3", "AWS provisioning")
        with errors("opening an AWS session"):
            self.session = session or boto3.Session(profile_name=profile or None,
                                                    region_name=region or None)
        if not self.session.region_name:
            raise InvindexError("no AWS region: set aws.region in the spec or AWS_REGION")
        self.cluster = cluster
        self.profile = profile
        self.region = self.session.region_name
        self._clients: Dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    @property
    def tag_filter(self) -> List[Dict[str, Any]]:
        return [{"Name": f"tag:{TAG_CLUSTER}", "Values": [self.cluster]},
                {"Name": f"tag:{TAG_MANAGED}", "Values": [MANAGED_BY]}]

    def owns(self, tags: List[Dict[str, str]] | None) -> bool:
        found = {t["Key"]: t["Value"] for t in tags or []}
        return found.get(TAG_CLUSTER) == self.cluster and found.get(TAG_MANAGED) == MANAGED_BY


def aws_for(spec: Spec, session: Any = None) -> Aws:
    return Aws(spec.name, spec.aws["region"], spec.aws["profile"], session=session)


def tag_list(tags: Dict[str, str]) -> List[Dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def error_code(e: BaseException) -> str:
    return getattr(e, "response", {}).get("Error", {}).get("Code", "")


@contextlib.contextmanager
def errors(doing: str) -> Iterator[None]:
    """Turn botocore's credential/region/client errors into one actionable line."""
    botocore = need("botocore.exceptions", "AWS provisioning")
    try:
        yield
    except botocore.NoCredentialsError:
        raise InvindexError(f"{doing}: no AWS credentials found (configure a profile, SSO "
                            "or environment credentials; invindex never stores keys)") from None
    except (botocore.ProfileNotFound, botocore.NoRegionError) as e:
        raise InvindexError(f"{doing}: {e}") from None
    except botocore.ClientError as e:
        raise InvindexError(f"{doing}: {error_code(e)}: "
                            f"{e.response.get('Error', {}).get('Message', e)}") from None
    except botocore.EndpointConnectionError as e:
        raise InvindexError(f"{doing}: {e}") from None
