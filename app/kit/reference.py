"""Reference tables: Shanghai's districts (GB/T 2260), manufacturing divisions (GB/T 4754-2017).

Source: ../shared/reference/domain.md §1–§2. Tile positions place districts on the heatmap's
tile-grid map (row 0 = north).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class District:
    code: str
    zh: str
    en: str
    slug: str
    tile_row: int
    tile_col: int

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def short_name(self, lang: str) -> str:
        """Without 区 / District (the heatmap's tiles): 浦东, Pudong."""
        if lang == "en":
            return self.en.replace(" District", "").replace(" New Area", "")
        return self.zh.removesuffix("区").removesuffix("新")


@dataclass(frozen=True, slots=True)
class Industry:
    code: str
    zh: str
    en: str

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


DISTRICTS: dict[str, District] = {
    d.code: d
    for d in (
        District("310101", "黄浦区", "Huangpu District", "huangpu", 2, 2),
        District("310104", "徐汇区", "Xuhui District", "xuhui", 3, 2),
        District("310105", "长宁区", "Changning District", "changning", 2, 1),
        District("310106", "静安区", "Jing'an District", "jingan", 1, 2),
        District("310107", "普陀区", "Putuo District", "putuo", 1, 1),
        District("310109", "虹口区", "Hongkou District", "hongkou", 1, 3),
        District("310110", "杨浦区", "Yangpu District", "yangpu", 1, 4),
        District("310112", "闵行区", "Minhang District", "minhang", 3, 1),
        District("310113", "宝山区", "Baoshan District", "baoshan", 0, 2),
        District("310114", "嘉定区", "Jiading District", "jiading", 1, 0),
        District("310115", "浦东新区", "Pudong New Area", "pudong", 2, 3),
        District("310116", "金山区", "Jinshan District", "jinshan", 4, 0),
        District("310117", "松江区", "Songjiang District", "songjiang", 3, 0),
        District("310118", "青浦区", "Qingpu District", "qingpu", 2, 0),
        District("310120", "奉贤区", "Fengxian District", "fengxian", 4, 1),
        District("310151", "崇明区", "Chongming District", "chongming", 0, 3),
    )
}

INDUSTRIES: dict[str, Industry] = {
    i.code: i
    for i in (
        Industry("13", "农副食品加工业", "Processing of Food from Agricultural Products"),
        Industry("14", "食品制造业", "Manufacture of Foods"),
        Industry(
            "15", "酒、饮料和精制茶制造业", "Manufacture of Liquor, Beverages and Refined Tea"
        ),
        Industry("16", "烟草制品业", "Manufacture of Tobacco"),
        Industry("17", "纺织业", "Manufacture of Textile"),
        Industry(
            "18", "纺织服装、服饰业", "Manufacture of Textile Wearing Apparel and Accessories"
        ),
        Industry(
            "19",
            "皮革、毛皮、羽毛及其制品和制鞋业",
            "Manufacture of Leather, Fur, Feather and Related Products and Footwear",
        ),
        Industry(
            "20",
            "木材加工和木、竹、藤、棕、草制品业",
            "Processing of Timber, Manufacture of Wood, Bamboo, Rattan, Palm and Straw Products",
        ),
        Industry("21", "家具制造业", "Manufacture of Furniture"),
        Industry("22", "造纸和纸制品业", "Manufacture of Paper and Paper Products"),
        Industry("23", "印刷和记录媒介复制业", "Printing and Reproduction of Recording Media"),
        Industry(
            "24",
            "文教、工美、体育和娱乐用品制造业",
            "Manufacture of Articles for Culture, Education, Arts and Crafts, Sport and "
            "Entertainment Activities",
        ),
        Industry(
            "25", "石油、煤炭及其他燃料加工业", "Processing of Petroleum, Coal and Other Fuels"
        ),
        Industry(
            "26",
            "化学原料和化学制品制造业",
            "Manufacture of Raw Chemical Materials and Chemical Products",
        ),
        Industry("27", "医药制造业", "Manufacture of Medicines"),
        Industry("28", "化学纤维制造业", "Manufacture of Chemical Fibers"),
        Industry("29", "橡胶和塑料制品业", "Manufacture of Rubber and Plastics Products"),
        Industry("30", "非金属矿物制品业", "Manufacture of Non-metallic Mineral Products"),
        Industry("31", "黑色金属冶炼和压延加工业", "Smelting and Pressing of Ferrous Metals"),
        Industry("32", "有色金属冶炼和压延加工业", "Smelting and Pressing of Non-ferrous Metals"),
        Industry("33", "金属制品业", "Manufacture of Metal Products"),
        Industry("34", "通用设备制造业", "Manufacture of General Purpose Machinery"),
        Industry("35", "专用设备制造业", "Manufacture of Special Purpose Machinery"),
        Industry("36", "汽车制造业", "Manufacture of Automobiles"),
        Industry(
            "37",
            "铁路、船舶、航空航天和其他运输设备制造业",
            "Manufacture of Railway, Ship, Aerospace and Other Transport Equipment",
        ),
        Industry("38", "电气机械和器材制造业", "Manufacture of Electrical Machinery and Apparatus"),
        Industry(
            "39",
            "计算机、通信和其他电子设备制造业",
            "Manufacture of Computers, Communication and Other Electronic Equipment",
        ),
        Industry("40", "仪器仪表制造业", "Manufacture of Measuring Instruments and Machinery"),
        Industry("41", "其他制造业", "Other Manufacture"),
        Industry("42", "废弃资源综合利用业", "Utilization of Waste Resources"),
        Industry(
            "43",
            "金属制品、机械和设备修理业",
            "Repair Service of Metal Products, Machinery and Equipment",
        ),
    )
}
