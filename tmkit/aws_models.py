"""botocore's data loader (service models, endpoint data) minus two costs every process pays on its first client.

Same files, same search path (``AWS_DATA_PATH``, ``~/.aws/models``, botocore's own data), same results and
errors; only cheaper (docs/architecture.md, "Start-up"):

- JSON is parsed into plain dicts (ordered, as every dict is) instead of ``OrderedDict``: botocore's
  ``object_pairs_hook=OrderedDict`` makes the parser call back into Python for every object, three times
  slower on the 1.2 MB ``endpoints.json`` every first client reads;
- checking that a service exists reads that service's directory, not every service's: botocore lists
  all of them (about 900 directory reads and 1,800 stats) once per model type, twice per process.

This module is botocore code: it imports botocore at its top, and only ``tmkit.aws`` imports it, inside
the function that makes a session.
"""

from __future__ import annotations

import gc
import gzip
import json
import os
import threading

from botocore.exceptions import DataNotFoundError
from botocore.loaders import JSONFileLoader, Loader

_OPENERS = ((".json", open), (".json.gz", gzip.open))


class PlainJSONFileLoader(JSONFileLoader):
    """botocore's JSON file loader (``NAME.json``, else ``NAME.json.gz``), parsing into plain dicts."""

    def load_file(self, file_path):
        for ext, opener in _OPENERS:
            path = file_path + ext
            if os.path.isfile(path):
                with opener(path, "rb") as fp:
                    text = fp.read().decode("utf-8")
                return _parse(text)
        return None


def _parse(text: str):
    """``json.loads`` with the cyclic garbage collector paused: parsing a model allocates 10^5 objects, enough to
    run several collections that walk every object of the process (tens of ms on a 1 MB file); a JSON document
    has no reference cycles, so there is nothing for them to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text)
    finally:
        if enabled:
            gc.enable()


class ModelLoader(Loader):
    """botocore's ``Loader`` with the file loader above and a one-service existence check."""

    FILE_LOADER_CLASS = PlainJSONFileLoader

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._asking = threading.local()

    def load_service_model(self, service_name, type_name, api_version=None):
        self._asking.service = service_name
        try:
            return super().load_service_model(service_name, type_name, api_version=api_version)
        finally:
            self._asking.service = None

    def list_available_services(self, type_name):
        """Inside ``load_service_model``, which asks only whether its service is in the list: that service, when
        it has a ``type_name`` model. Otherwise (or when it has none) botocore's full list, so an unknown service
        still raises botocore's ``UnknownServiceError`` naming the known ones."""
        service = getattr(self._asking, "service", None)
        if service is not None:
            try:
                self.list_api_versions(service, type_name)  # the same directories botocore's listing reads for it
            except DataNotFoundError:
                pass
            else:
                return [service]
        return super().list_available_services(type_name)


def create_loader(search_path_string: str | None = None) -> ModelLoader:
    """``botocore.loaders.create_loader``: ``search_path_string`` is ``AWS_DATA_PATH`` (paths joined by
    ``os.pathsep``) searched before the default locations."""
    if search_path_string is None:
        return ModelLoader()
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in search_path_string.split(os.pathsep)]
    return ModelLoader(extra_search_paths=paths)
