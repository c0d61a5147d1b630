"""GPU names as cards, the manual and result files write them: the one pattern every rule that reads a device uses."""

from __future__ import annotations

import re

#: a GPU by its model name: "H100", "H20-3e", "H100s" (as H100), "GB200", "GH200", "GB10" (DGX Spark), "B200", "A100",
#: "A10G", "A6000", "L40S", "V100", "MI300X", "RTX 4090", "RTX PRO 6000"; not a model's active-parameter tag ("-A3B",
#: "-A17B"), a batch ("B28") or a file name's lower-case tag ("-h200.log")
GPU = re.compile(r"(?<![\w-])(?:G[BH][123]00|GB10|H(?:20|100|200|800)(?:-3e)?|B[123]00|A(?:10G?|30|40|100|800|[4-6]000)|"
                 r"L4(?:0S?)?|L20|V100|MI\d{3}X?|RTX(?: PRO)? ?\d{4})(?!\d)")


def gpu_names(text: str) -> set[str]:
    """The GPUs ``text`` names, spaces dropped ("RTX 4090" as "RTX4090")."""
    return {m.group(0).replace(" ", "") for m in GPU.finditer(text)}
