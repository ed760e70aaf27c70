"""The SME Overseas Safety Network as data: its members, its meetings and the tools it promotes."""

from __future__ import annotations

__all__ = [
    "MEETINGS",
    "NETWORK",
    "NETWORK_SLUG",
    "ORGANIZATIONS",
    "PROMOTIONS",
    "Link",
    "MeetingData",
    "OrganizationData",
    "PromotionData",
]

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Link:
    """A web page about a meeting, titled in both languages."""

    title_ja: str
    title_en: str
    url: str


@dataclass(frozen=True)
class OrganizationData:
    """A member organization, and how its rendition of the mail magazine greets readers and names a contact.

    `kind` is "ministry" (府省庁), "agency" (独立行政法人・政府系機関・金融機関) or "association"
    (団体・協会・組合・連合会); the network itself has the kind "network".
    """

    slug: str
    name_ja: str
    name_en: str
    kind: str
    url: str
    greeting_ja: str
    greeting_en: str
    contact_ja: str
    contact_en: str


@dataclass(frozen=True)
class MeetingData:
    """A plenary (本会合) or secretariat (幹事会) meeting of the network, summarized in both languages.

    `format` is "in_person", "online" or "hybrid", or None where the network's page does not say.
    The summaries are Markdown.
    """

    kind: str
    number: int
    held_on: date
    format: str | None
    opened_by_ja: str
    opened_by_en: str
    summary_ja: str
    summary_en: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class PromotionData:
    """A tool or campaign the network promotes, and the days an issue carries it.

    None for `starts_on` means always, None for `ends_on` means open-ended. When `yearly` is true only the
    month and day of the two dates count, every year.
    """

    slug: str
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    url: str
    starts_on: date | None
    ends_on: date | None
    yearly: bool
    position: int


# The network's page on MOFA's Overseas Safety website: the source of the member list and meeting records.
_NETWORK_PAGE_URL = "https://www.anzen.mofa.go.jp/anzen_info/network.html"

# Every member, in the page's order (50音順).
ORGANIZATIONS: tuple[OrganizationData, ...] = (
    OrganizationData(
        slug="enaa",
        name_ja="エンジニアリング協会",
        name_en="Engineering Advancement Association of Japan (ENAA)",
        kind="association",
        url="https://www.enaa.or.jp/",
        greeting_ja=(
            "エンジニアリング協会より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Engineering Advancement Association of Japan is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to its member companies. Please use it to prepare for business "
            "trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：エンジニアリング協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Engineering "
            "Advancement Association of Japan"
        ),
    ),
    OrganizationData(
        slug="ocaji",
        name_ja="海外建設協会",
        name_en="Overseas Construction Association of Japan, Inc. (OCAJI)",
        kind="association",
        url="https://www.ocaji.or.jp/",
        greeting_ja=(
            "海外建設協会より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Overseas Construction Association of Japan is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to its member companies. Please use it to prepare for business "
            "trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：海外建設協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Overseas Construction "
            "Association of Japan"
        ),
    ),
    OrganizationData(
        slug="ecfa",
        name_ja="海外コンサルタンツ協会",
        name_en="Engineering and Consulting Firms Association, Japan (ECFA)",
        kind="association",
        url="https://www.ecfa.or.jp/",
        greeting_ja=(
            "海外コンサルタンツ協会より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Engineering and Consulting Firms Association, Japan is passing on the Ministry of Foreign "
            "Affairs' overseas safety information to its member companies. Please use it to prepare for "
            "business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：海外コンサルタンツ協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Engineering and "
            "Consulting Firms Association, Japan"
        ),
    ),
    OrganizationData(
        slug="josa",
        name_ja="海外邦人安全協会",
        name_en="Japan Overseas Safety Association (JOSA)",
        kind="association",
        url="https://josa.or.jp/",
        greeting_ja=(
            "海外邦人安全協会より、会員の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Overseas Safety Association is passing on the Ministry of Foreign Affairs' overseas "
            "safety information to its members. Please use it to prepare for business trips and postings "
            "abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：海外邦人安全協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Overseas Safety "
            "Association"
        ),
    ),
    OrganizationData(
        slug="mofa",
        name_ja="外務省",
        name_en="Ministry of Foreign Affairs of Japan (MOFA)",
        kind="ministry",
        url="https://www.mofa.go.jp/",
        greeting_ja=(
            "外務省領事局より、海外で事業を展開する企業の皆様へ、海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Consular Affairs Bureau of the Ministry of Foreign Affairs brings its overseas safety "
            "information to companies doing business abroad. Please use it to prepare for business trips and "
            "postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：外務省 領事局",
        contact_en=(
            "Questions about this email: Consular Affairs Bureau, Ministry of Foreign Affairs of Japan"
        ),
    ),
    OrganizationData(
        slug="fsa",
        name_ja="金融庁",
        name_en="Financial Services Agency (FSA)",
        kind="ministry",
        url="https://www.fsa.go.jp/",
        greeting_ja=(
            "金融庁より、金融機関とそのお取引先の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Financial Services Agency is passing on the Ministry of Foreign Affairs' overseas safety "
            "information to financial institutions and their clients. Please use it to prepare for business "
            "trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：金融庁（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Financial Services "
            "Agency"
        ),
    ),
    OrganizationData(
        slug="meti",
        name_ja="経済産業省",
        name_en="Ministry of Economy, Trade and Industry (METI)",
        kind="ministry",
        url="https://www.meti.go.jp/",
        greeting_ja=(
            "経済産業省より、海外展開に取り組む企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Ministry of Economy, Trade and Industry is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to companies expanding abroad. Please use it to prepare for "
            "business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：経済産業省（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Ministry of Economy, "
            "Trade and Industry"
        ),
    ),
    OrganizationData(
        slug="doyukai",
        name_ja="経済同友会",
        name_en="Japan Association of Corporate Executives (Keizai Doyukai)",
        kind="association",
        url="https://www.doyukai.or.jp/",
        greeting_ja=(
            "経済同友会より、会員の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Association of Corporate Executives is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to its members. Please use it to prepare for business trips and "
            "postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：経済同友会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Association of "
            "Corporate Executives"
        ),
    ),
    OrganizationData(
        slug="jica",
        name_ja="国際協力機構",
        name_en="Japan International Cooperation Agency (JICA)",
        kind="agency",
        url="https://www.jica.go.jp/",
        greeting_ja=(
            "国際協力機構より、国際協力事業に携わる関係者の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "JICA is passing on the Ministry of Foreign Affairs' overseas safety information to the people "
            "and companies working on its projects. Please use it to prepare for business trips and postings "
            "abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：国際協力機構（本メールの配信担当部署）",
        contact_en="Questions about this email: the department in charge of this email at JICA",
    ),
    OrganizationData(
        slug="jbic",
        name_ja="国際協力銀行",
        name_en="Japan Bank for International Cooperation (JBIC)",
        kind="agency",
        url="https://www.jbic.go.jp/",
        greeting_ja=(
            "国際協力銀行より、お取引先の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "JBIC is passing on the Ministry of Foreign Affairs' overseas safety information to its clients. "
            "Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：国際協力銀行（本メールの配信担当部署）",
        contact_en="Questions about this email: the department in charge of this email at JBIC",
    ),
    OrganizationData(
        slug="jpf",
        name_ja="国際交流基金",
        name_en="The Japan Foundation",
        kind="agency",
        url="https://www.jpf.go.jp/",
        greeting_ja=(
            "国際交流基金より、国際交流事業に携わる関係者の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Foundation is passing on the Ministry of Foreign Affairs' overseas safety information "
            "to the people and organizations in its exchange programmes. Please use it to prepare for "
            "business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：国際交流基金（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Foundation"
        ),
    ),
    OrganizationData(
        slug="shokochukin",
        name_ja="商工組合中央金庫",
        name_en="The Shoko Chukin Bank, Ltd.",
        kind="agency",
        url="https://www.shokochukin.co.jp/",
        greeting_ja=(
            "商工組合中央金庫より、お取引先の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Shoko Chukin Bank is passing on the Ministry of Foreign Affairs' overseas safety "
            "information to its clients. Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：商工組合中央金庫（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Shoko Chukin Bank"
        ),
    ),
    OrganizationData(
        slug="zenginkyo",
        name_ja="全国銀行協会",
        name_en="Japanese Bankers Association (JBA)",
        kind="association",
        url="https://www.zenginkyo.or.jp/",
        greeting_ja=(
            "全国銀行協会より、会員銀行とそのお取引先の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japanese Bankers Association is passing on the Ministry of Foreign Affairs' overseas safety "
            "information to its member banks and their clients. Please use it to prepare for business trips "
            "and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：全国銀行協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japanese Bankers "
            "Association"
        ),
    ),
    OrganizationData(
        slug="shokokai",
        name_ja="全国商工会連合会",
        name_en="Central Federation of Societies of Commerce and Industry, Japan",
        kind="association",
        url="https://www.shokokai.or.jp/",
        greeting_ja=(
            "全国商工会連合会より、全国の商工会と会員事業者の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Central Federation of Societies of Commerce and Industry is passing on the Ministry of "
            "Foreign Affairs' overseas safety information to societies of commerce and industry and their "
            "member businesses. Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：全国商工会連合会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Central Federation of "
            "Societies of Commerce and Industry"
        ),
    ),
    OrganizationData(
        slug="shinkin",
        name_ja="全国信用金庫協会",
        name_en="National Association of Shinkin Banks",
        kind="association",
        url="https://www.shinkin.org/",
        greeting_ja=(
            "全国信用金庫協会より、信用金庫とそのお取引先の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The National Association of Shinkin Banks is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to shinkin banks and their clients. Please use it to prepare for "
            "business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：全国信用金庫協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the National Association "
            "of Shinkin Banks"
        ),
    ),
    OrganizationData(
        slug="shinkumi",
        name_ja="全国信用組合中央協会",
        name_en="National Central Society of Credit Cooperatives",
        kind="association",
        url="https://www.shinyokumiai.or.jp/",
        greeting_ja=(
            "全国信用組合中央協会より、信用組合とその組合員の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The National Central Society of Credit Cooperatives is passing on the Ministry of Foreign "
            "Affairs' overseas safety information to credit cooperatives and their members. Please use it to "
            "prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：全国信用組合中央協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the National Central "
            "Society of Credit Cooperatives"
        ),
    ),
    OrganizationData(
        slug="nga",
        name_ja="全国知事会",
        name_en="National Governors' Association",
        kind="association",
        url="https://www.nga.gr.jp/",
        greeting_ja=(
            "全国知事会より、都道府県と地域の企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The National Governors' Association is passing on the Ministry of Foreign Affairs' overseas "
            "safety information to prefectures and the companies in their regions. Please use it to prepare "
            "for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：全国知事会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the National Governors' "
            "Association"
        ),
    ),
    OrganizationData(
        slug="chuokai",
        name_ja="全国中小企業団体中央会",
        name_en="National Federation of Small Business Associations (Chuokai)",
        kind="association",
        url="https://www.chuokai.or.jp/",
        greeting_ja=(
            "全国中小企業団体中央会より、中小企業組合と組合員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The National Federation of Small Business Associations is passing on the Ministry of Foreign "
            "Affairs' overseas safety information to small business associations and their member companies. "
            "Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：全国中小企業団体中央会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the National Federation "
            "of Small Business Associations"
        ),
    ),
    OrganizationData(
        slug="smrj",
        name_ja="中小企業基盤整備機構",
        name_en="Organization for Small & Medium Enterprises and Regional Innovation, JAPAN (SMRJ)",
        kind="agency",
        url="https://www.smrj.go.jp/",
        greeting_ja=(
            "中小企業基盤整備機構より、中小企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "SMRJ is passing on the Ministry of Foreign Affairs' overseas safety information to small and "
            "medium-sized enterprises. Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：中小企業基盤整備機構（本メールの配信担当部署）",
        contact_en="Questions about this email: the department in charge of this email at SMRJ",
    ),
    OrganizationData(
        slug="chusho",
        name_ja="中小企業庁",
        name_en="Small and Medium Enterprise Agency",
        kind="ministry",
        url="https://www.chusho.meti.go.jp/",
        greeting_ja=(
            "中小企業庁より、中小企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Small and Medium Enterprise Agency is passing on the Ministry of Foreign Affairs' overseas "
            "safety information to small and medium-sized enterprises. Please use it to prepare for business "
            "trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：中小企業庁（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Small and Medium "
            "Enterprise Agency"
        ),
    ),
    OrganizationData(
        slug="jmc",
        name_ja="日本機械輸出組合",
        name_en="Japan Machinery Center for Trade and Investment (JMC)",
        kind="association",
        url="https://www.jmcti.org/",
        greeting_ja=(
            "日本機械輸出組合より、組合員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Machinery Center for Trade and Investment is passing on the Ministry of Foreign "
            "Affairs' overseas safety information to its member companies. Please use it to prepare for "
            "business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本機械輸出組合（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Machinery "
            "Center for Trade and Investment"
        ),
    ),
    OrganizationData(
        slug="keidanren",
        name_ja="日本経済団体連合会",
        name_en="Japan Business Federation (Keidanren)",
        kind="association",
        url="https://www.keidanren.or.jp/",
        greeting_ja=(
            "日本経済団体連合会より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "Keidanren is passing on the Ministry of Foreign Affairs' overseas safety information to its "
            "member companies. Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本経済団体連合会（本メールの配信担当部署）",
        contact_en="Questions about this email: the department in charge of this email at Keidanren",
    ),
    OrganizationData(
        slug="joea",
        name_ja="日本在外企業協会",
        name_en="Japan Overseas Enterprises Association (JOEA)",
        kind="association",
        url="https://www.joea.or.jp/",
        greeting_ja=(
            "日本在外企業協会より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Overseas Enterprises Association is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to its member companies. Please use it to prepare for business "
            "trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本在外企業協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Overseas "
            "Enterprises Association"
        ),
    ),
    OrganizationData(
        slug="jcci",
        name_ja="日本商工会議所",
        name_en="The Japan Chamber of Commerce and Industry (JCCI)",
        kind="association",
        url="https://www.jcci.or.jp/",
        greeting_ja=(
            "日本商工会議所より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Chamber of Commerce and Industry is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to its member companies. Please use it to prepare for business "
            "trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本商工会議所 国際部",
        contact_en=(
            "Questions about this email: International Division, The Japan Chamber of Commerce and Industry"
        ),
    ),
    OrganizationData(
        slug="jfc",
        name_ja="日本政策金融公庫",
        name_en="Japan Finance Corporation (JFC)",
        kind="agency",
        url="https://www.jfc.go.jp/",
        greeting_ja=(
            "日本政策金融公庫より、お取引先の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "Japan Finance Corporation is passing on the Ministry of Foreign Affairs' overseas safety "
            "information to its clients. Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本政策金融公庫（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at Japan Finance Corporation"
        ),
    ),
    OrganizationData(
        slug="sonpo",
        name_ja="日本損害保険協会",
        name_en="The General Insurance Association of Japan (GIAJ)",
        kind="association",
        url="https://www.sonpo.or.jp/",
        greeting_ja=(
            "日本損害保険協会より、会員会社とそのお客様の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The General Insurance Association of Japan is passing on the Ministry of Foreign Affairs' "
            "overseas safety information to its member companies and their customers. Please use it to "
            "prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本損害保険協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the General Insurance "
            "Association of Japan"
        ),
    ),
    OrganizationData(
        slug="jftc",
        name_ja="日本貿易会",
        name_en="Japan Foreign Trade Council, Inc. (JFTC)",
        kind="association",
        url="https://www.jftc.or.jp/",
        greeting_ja=(
            "日本貿易会より、会員企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Foreign Trade Council is passing on the Ministry of Foreign Affairs' overseas safety "
            "information to its member companies. Please use it to prepare for business trips and postings "
            "abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本貿易会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Foreign Trade "
            "Council"
        ),
    ),
    OrganizationData(
        slug="jetro",
        name_ja="日本貿易振興機構",
        name_en="Japan External Trade Organization (JETRO)",
        kind="agency",
        url="https://www.jetro.go.jp/",
        greeting_ja=(
            "日本貿易振興機構より、海外ビジネスに取り組む企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "JETRO is passing on the Ministry of Foreign Affairs' overseas safety information to companies "
            "doing business abroad. Please use it to prepare for business trips and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本貿易振興機構（本メールの配信担当部署）",
        contact_en="Questions about this email: the department in charge of this email at JETRO",
    ),
    OrganizationData(
        slug="nexi",
        name_ja="日本貿易保険",
        name_en="Nippon Export and Investment Insurance (NEXI)",
        kind="agency",
        url="https://www.nexi.go.jp/",
        greeting_ja=(
            "日本貿易保険より、貿易保険をご利用の企業の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "NEXI is passing on the Ministry of Foreign Affairs' overseas safety information to the "
            "companies that use its trade insurance. Please use it to prepare for business trips and "
            "postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本貿易保険（本メールの配信担当部署）",
        contact_en="Questions about this email: the department in charge of this email at NEXI",
    ),
    OrganizationData(
        slug="jata",
        name_ja="日本旅行業協会",
        name_en="Japan Association of Travel Agents (JATA)",
        kind="association",
        url="https://www.jata-net.or.jp/",
        greeting_ja=(
            "日本旅行業協会より、会員旅行会社の皆様へ外務省の海外安全情報をお届けします。"
            "海外への出張や駐在の備えにお役立てください。"
        ),
        greeting_en=(
            "The Japan Association of Travel Agents is passing on the Ministry of Foreign Affairs' overseas "
            "safety information to its member travel companies. Please use it to prepare for business trips "
            "and postings abroad."
        ),
        contact_ja="本メールに関するお問い合わせ：日本旅行業協会（本メールの配信担当部署）",
        contact_en=(
            "Questions about this email: the department in charge of this email at the Japan Association of "
            "Travel Agents"
        ),
    ),
)

# The rendition for subscribers who came through no member organization.
NETWORK_SLUG = "network"  # the network itself: the rendition of subscribers with no member organization

NETWORK: OrganizationData = OrganizationData(
    slug=NETWORK_SLUG,
    name_ja="中堅・中小企業海外安全対策ネットワーク",
    name_en="SME Overseas Safety Network",
    kind="network",
    url="https://www.anzen.mofa.go.jp/",
    greeting_ja=(
        "中堅・中小企業海外安全対策ネットワーク事務局（外務省領事局）より、"
        "海外で事業を行う中堅・中小企業の皆様へ、海外安全情報をお届けします。"
        "海外への出張や駐在の備えにお役立てください。"
    ),
    greeting_en=(
        "The secretariat of the SME Overseas Safety Network at the Consular Affairs Bureau of the Ministry "
        "of Foreign Affairs brings overseas safety information to small and medium-sized companies doing "
        "business abroad. Please use it to prepare for business trips and postings abroad."
    ),
    contact_ja="本メールに関するお問い合わせ：中堅・中小企業海外安全対策ネットワーク事務局（外務省領事局）",
    contact_en=(
        "Questions about this email: secretariat of the SME Overseas Safety Network, Consular Affairs "
        "Bureau, Ministry of Foreign Affairs of Japan"
    ),
)

_NETWORK_PAGE_LINK = Link(
    title_ja="中堅・中小企業海外安全対策ネットワーク（海外安全ホームページ）",
    title_en="SME Overseas Safety Network on the Overseas Safety website (Japanese)",
    url=_NETWORK_PAGE_URL,
)

# Plenary meetings (本会合) first, then secretariat meetings (幹事会), each by number.
MEETINGS: tuple[MeetingData, ...] = (
    MeetingData(
        kind="plenary",
        number=1,
        held_on=date(2016, 9, 27),
        format="in_person",
        opened_by_ja="小田原潔外務大臣政務官（当時）",
        opened_by_en="Parliamentary Vice-Minister for Foreign Affairs Kiyoshi Odawara (at the time)",
        summary_ja=(
            "第1回本会合をもって「中堅・中小企業海外安全対策ネットワーク」が発足しました。"
            "小田原潔外務大臣政務官（当時）の挨拶の後、参加各組織が、安全対策の支援を含め、"
            "企業の海外進出を後押しする自らの取組を説明しました。\n"
            "\n"
            "外務省は、海外安全情報や外務省海外旅行登録「たびレジ」といったツールのほか、"
            "海外進出企業向けの各種セミナーへの講師派遣や、国内外での安全対策セミナーの開催を紹介しました。"
            "そのうえで、各組織が持つ企業との接点を生かして企業へ情報を届けることと、"
            "企業が抱える懸念や課題を共有することへの協力を求めました。"
        ),
        summary_en=(
            "The first plenary meeting launched the SME Overseas Safety Network. After a greeting by "
            "Parliamentary Vice-Minister for Foreign Affairs Kiyoshi Odawara, each member organization "
            "described how it helps companies expand abroad, including support for their safety measures.\n"
            "\n"
            "MOFA presented its tools, such as its overseas safety information and the Tabireg travel "
            "registration, as well as the lecturers it sends to seminars for companies going abroad and the "
            "safety seminars it holds in Japan and overseas. It asked the members to use their contacts with "
            "companies to pass information on, and to help share the concerns and problems that companies "
            "face."
        ),
        links=(
            _NETWORK_PAGE_LINK,
            Link(
                title_ja="報道発表：中堅・中小企業海外安全対策ネットワークの立ち上げ（2016年9月16日）",
                title_en=(
                    "Press release: launch of the SME Overseas Safety Network (16 September 2016, Japanese)"
                ),
                url="https://www.mofa.go.jp/mofaj/press/release/press4_003709.html",
            ),
        ),
    ),
    MeetingData(
        kind="plenary",
        number=2,
        held_on=date(2017, 6, 30),
        format="in_person",
        opened_by_ja="岸信夫外務副大臣（当時）",
        opened_by_en="State Minister for Foreign Affairs Nobuo Kishi (at the time)",
        summary_ja=(
            "岸信夫外務副大臣（当時）が、参加組織の協力も得て作成した「ゴルゴ13の中堅・中小企業向け海外安全対"
            "策マニュアル」の冊子版が完成したことを発表し、"
            "ネットワークを通じて全国へ広めるための協力を呼びかけました。\n"
            "\n"
            "参加各組織は、(1)情報発信、(2)企業間の勉強会・意見交換会、"
            "(3)企業向けのサポートサービスなどの取組を報告しました。\n"
            "\n"
            "外務省は、参加組織などが国内外で開く海外安全対策セミナーへの講師派遣と、"
            "企業間の勉強会などでの領事局職員による講演・意見交換を紹介・提案しました。あわせて、"
            "ゴルゴ13のマニュアルをはじめとする外務省のツールを活用した安全対策支援を呼びかけ、"
            "参加組織による企業向けサポートサービスの一層の充実などを提案しました。"
        ),
        summary_en=(
            "State Minister for Foreign Affairs Nobuo Kishi announced that the booklet edition of the Golgo "
            "13 overseas safety manual for SMEs, produced with help from the member organizations, was "
            "complete, and asked the network to help spread it across Japan.\n"
            "\n"
            "The members reported on their work in (1) providing information, (2) study groups and exchanges "
            "of views among companies, and (3) support services for companies.\n"
            "\n"
            "MOFA presented and proposed two kinds of cooperation: sending lecturers to the overseas safety "
            "seminars that members and others hold in Japan and abroad, and having Consular Affairs Bureau "
            "staff speak and exchange views at company study groups. It called for safety support built on "
            "MOFA's tools, starting with the Golgo 13 manual, and proposed, among other things, that the "
            "members further expand their support services for companies."
        ),
        links=(
            _NETWORK_PAGE_LINK,
            Link(
                title_ja="ゴルゴ13の中堅・中小企業向け海外安全対策マニュアル",
                title_en="The Golgo 13 overseas safety manual for SMEs (Japanese)",
                url="https://www.anzen.mofa.go.jp/anzen_info/golgo13xgaimusho.html",
            ),
        ),
    ),
    MeetingData(
        kind="plenary",
        number=3,
        held_on=date(2018, 7, 26),
        format="in_person",
        opened_by_ja="佐藤正久外務副大臣（当時）",
        opened_by_en="State Minister for Foreign Affairs Masahisa Sato (at the time)",
        summary_ja=(
            "佐藤正久外務副大臣（当時）の挨拶に続き、参加各組織が安全対策の取組を、情報発信、"
            "企業間の勉強会・意見交換会、企業向けサポートサービスの順に報告しました。\n"
            "\n"
            "外務省は、その年度に企業向けに予定している国内外の安全対策セミナーと実地訓練を説明し、"
            "参加組織などが開く海外安全対策セミナーや企業間の勉強会へ領事局職員を派遣する協力を紹介・提案しま"
            "した。\n"
            "\n"
            "さらに、7月・8月の「夏の海外安全強化月間」、ケンドーコバヤシ氏への「夏休み『たびレジ』"
            "登録推進書記官」の委嘱、海外安全ホームページの大幅なリニューアルなどを紹介し、"
            "「ゴルゴ13の海外安全対策マニュアル」や「たびレジ」"
            "をはじめとする外務省ツールの周知と活用への協力を求めました。"
        ),
        summary_en=(
            "After a greeting by State Minister for Foreign Affairs Masahisa Sato, the members reported on "
            "their safety work in this order: providing information, study groups and exchanges of views "
            "among companies, and support services for companies.\n"
            "\n"
            "MOFA outlined the safety seminars and field exercises for companies it planned for that fiscal "
            "year in Japan and abroad, and presented and proposed sending Consular Affairs Bureau staff to "
            "the overseas safety seminars and company study groups that members and others hold.\n"
            "\n"
            "It also introduced the Summer Overseas Safety Month in July and August, the appointment of "
            'Kendo Kobayashi as "summer Tabireg registration promotion secretary" and the major renewal of '
            "the Overseas Safety website, and asked the members to help spread and use MOFA's tools, such as "
            "the Golgo 13 overseas safety manual and Tabireg."
        ),
        links=(
            _NETWORK_PAGE_LINK,
            Link(
                title_ja="報道発表：「中堅・中小企業海外安全対策ネットワーク」第3回本会合の開催（結果）",
                title_en="Press release: results of the 3rd plenary meeting (Japanese)",
                url="https://www.mofa.go.jp/mofaj/press/release/press4_006279.html",
            ),
        ),
    ),
    MeetingData(
        kind="plenary",
        number=4,
        held_on=date(2019, 8, 30),
        format="in_person",
        opened_by_ja="佐藤正久外務副大臣（当時）の挨拶を水嶋光一領事局長（当時）が代読",
        opened_by_en=(
            "Greeting of State Minister for Foreign Affairs Masahisa Sato (at the time), read by "
            "Director-General of the Consular Affairs Bureau Koichi Mizushima (at the time)"
        ),
        summary_ja=(
            "水嶋光一領事局長（当時）が、佐藤正久外務副大臣（当時）の挨拶を代読しました。続いて参加各組織が、"
            "(1)広報・啓発活動、(2)企業間の勉強会・意見交換会、(3)企業向けサポートサービスなど、"
            "安全対策の取組を報告しました。\n"
            "\n"
            "外務省は、安全対策セミナーへの協力を紹介したほか、同年4月に公開した「海外安全クイズ」"
            "に出張・駐在編を加えたこと、海外安全ホームページを大幅にリニューアルしたことなどを報告しました。"
            "そのうえで、「ゴルゴ13の海外安全対策マニュアル」や「たびレジ」"
            "をはじめとする外務省のコンテンツの周知と活用への協力を求めました。\n"
            "\n"
            "この会合で海外コンサルタンツ協会（ECFA）が新たにネットワークに加わり、参加組織は30となりました。"
        ),
        summary_en=(
            "Director-General of the Consular Affairs Bureau Koichi Mizushima read out a greeting from State "
            "Minister for Foreign Affairs Masahisa Sato. The members then reported on their safety work, "
            "including (1) publicity and awareness-raising, (2) study groups and exchanges of views among "
            "companies, and (3) support services for companies.\n"
            "\n"
            "MOFA described its cooperation with safety seminars, reported that a business-trip and posting "
            "edition had been added to the Overseas Safety Quiz published that April, and that the Overseas "
            "Safety website had been largely renewed. It asked the members to help spread and use MOFA "
            "content such as the Golgo 13 overseas safety manual and Tabireg.\n"
            "\n"
            "The Engineering and Consulting Firms Association, Japan (ECFA) joined the network at this "
            "meeting, bringing it to 30 member organizations."
        ),
        links=(
            _NETWORK_PAGE_LINK,
            Link(
                title_ja="海外安全クイズ",
                title_en="Overseas Safety Quiz (Japanese)",
                url="https://www.anzen.mofa.go.jp/anzen_info/quiz/index.html",
            ),
        ),
    ),
    MeetingData(
        kind="plenary",
        number=5,
        held_on=date(2021, 3, 15),
        format="online",
        opened_by_ja="鷲尾英一郎外務副大臣（当時）",
        opened_by_en="State Minister for Foreign Affairs Eiichiro Washio (at the time)",
        summary_ja=(
            "オンライン方式で開かれ、冒頭に鷲尾英一郎外務副大臣がビデオメッセージで挨拶しました（動画と原稿を"
            "公開）。参加組織は、第4回幹事会（2019年12月）以降の取組などを報告しました。\n"
            "\n"
            "外務省は、新型コロナウイルス感染症の世界的な拡大を受けた在外邦人の出国・帰国の支援、"
            "在外邦人などへの情報発信と注意喚起、オンラインを使った安全対策セミナーの実施などを紹介し、"
            "外務省ツールの一層の周知と活用への協力を求めました。\n"
            "\n"
            "会合では、参加組織がコロナ禍でも工夫を重ねて海外安全対策に取り組んでいることを確認しました。"
            "また、第4回幹事会で話し合ったネットワークの課題を改めて確認し、"
            "その改善に取り組んでいくことになりました。"
        ),
        summary_en=(
            "Held online, the meeting opened with a video message from State Minister for Foreign Affairs "
            "Eiichiro Washio (the video and the text were published). The members reported on their work "
            "since the 4th secretariat meeting in December 2019.\n"
            "\n"
            "MOFA described its help for Japanese nationals abroad who needed to leave or return home as "
            "COVID-19 spread worldwide, its information and alerts for Japanese nationals abroad, and its "
            "online safety seminars, and asked the members to do even more to spread and use MOFA's tools.\n"
            "\n"
            "The meeting confirmed that the members kept up their overseas safety work through the pandemic "
            "by finding new ways of working. It also went over again the network's open issues discussed at "
            "the 4th secretariat meeting, and agreed to work on them."
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
    MeetingData(
        kind="plenary",
        number=6,
        held_on=date(2022, 2, 28),
        format="online",
        opened_by_ja="鈴木貴子外務副大臣（当時）",
        opened_by_en="State Minister for Foreign Affairs Takako Suzuki (at the time)",
        summary_ja=(
            "前回に続きオンライン方式で開かれ、"
            "冒頭に鈴木貴子外務副大臣がビデオメッセージで挨拶しました（動画と原稿を公開）。\n"
            "\n"
            "外務省は、長引くコロナ禍での在留邦人などへの情報発信と注意喚起、"
            "感染状況の悪化や情勢不安の際の出国・帰国の支援、海外在留邦人向けのワクチン接種事業、"
            "孤独・孤立対策などを説明しました。あわせて「ゴルゴ13の海外安全対策マニュアル」の活用と、"
            "在留届・「たびレジ」の正確な登録を改めて呼びかけました。参加組織は主に2021年度（令和3年度）"
            "の取組を報告し、ネットワークをさらに活性化する方法を活発に議論しました。\n"
            "\n"
            "会合では、参加組織がオンラインも活用しながら、"
            "長引くコロナ禍でも工夫して取り組んでいることを確認しました。活性化については、"
            "情報共有や外務省と参加組織の協力の面で一定の前進があったとしつつ、"
            "さらなる改善に引き続き取り組むことになりました。"
        ),
        summary_en=(
            "Held online again, the meeting opened with a video message from State Minister for Foreign "
            "Affairs Takako Suzuki (the video and the text were published).\n"
            "\n"
            "MOFA explained its information and alerts for Japanese nationals abroad during the prolonged "
            "pandemic, its help for nationals leaving or returning home when infections worsened or the "
            "situation became unstable, its COVID-19 vaccination programme for Japanese nationals living "
            "abroad, and its measures against loneliness and isolation. It again asked for use of the Golgo "
            "13 overseas safety manual and for accurate residence registrations and Tabireg registrations. "
            "The members reported mainly on their work in fiscal 2021 and held a lively discussion on making "
            "the network more active.\n"
            "\n"
            "The meeting confirmed that the members kept finding ways to work through the long pandemic, "
            "partly online. On making the network more active, it found some progress in information sharing "
            "and in cooperation between MOFA and the members, and agreed to keep working on further "
            "improvement."
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
    MeetingData(
        kind="plenary",
        number=7,
        held_on=date(2022, 11, 22),
        format="hybrid",
        opened_by_ja="山田賢司外務副大臣（当時）",
        opened_by_en="State Minister for Foreign Affairs Kenji Yamada (at the time)",
        summary_ja=(
            "新型コロナウイルス感染症の流行後初めてハイブリッド方式で開かれ、"
            "冒頭に山田賢司外務副大臣が会場で挨拶しました（動画と原稿を公開）。\n"
            "\n"
            "外務省は、世界の治安情勢を説明するとともに、"
            "参加組織への個別ヒアリングを踏まえて新たに始めたメールマガジンやSNSによる情報発信などの取組を紹"
            "介しました。「ゴルゴ13の海外安全対策マニュアル」の活用と、在留届・「たびレジ」"
            "の正確な登録も改めて求めました。参加組織は主に2022年度（令和4年度）の取組を報告し、"
            "今後の活動方針を示しました。\n"
            "\n"
            "会合では、参加組織が啓発に積極的に取り組み、"
            "中堅・中小企業に安全情報が届くよう働きかけていることを確認しました。活性化については、"
            "第6回本会合以降、外務省の発信した情報が参加組織から傘下企業へさらに広がるなど一定の進展があった"
            "と確認し、引き続き連携の強化に取り組むことになりました。"
        ),
        summary_en=(
            "The first meeting in hybrid format since the COVID-19 pandemic began, it opened with an "
            "in-person greeting by State Minister for Foreign Affairs Kenji Yamada (the video and the text "
            "were published).\n"
            "\n"
            "MOFA explained the security situation around the world and presented its work, including the "
            "new mail magazine and social media outreach it started after individual hearings with the "
            "member organizations. It again asked for use of the Golgo 13 overseas safety manual and for "
            "accurate residence registrations and Tabireg registrations. The members reported mainly on "
            "their work in fiscal 2022 and set out their plans.\n"
            "\n"
            "The meeting confirmed that the members were actively raising awareness and reaching out so that "
            "safety information gets to SMEs. On making the network more active, it found progress since the "
            "6th plenary meeting, for example information sent by MOFA being passed on by members to their "
            "affiliated companies, and agreed to keep strengthening cooperation."
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
    MeetingData(
        kind="plenary",
        number=8,
        held_on=date(2024, 1, 31),
        format="hybrid",
        opened_by_ja="柘植芳文外務副大臣（当時）",
        opened_by_en="State Minister for Foreign Affairs Yoshifumi Tsuge (at the time)",
        summary_ja=(
            "第7回に続きハイブリッド方式で開かれ、冒頭に柘植芳文外務副大臣が会場で挨拶しました（原稿を公開）"
            "。\n"
            "\n"
            "外務省は、最近の世界情勢から緊急時の邦人保護の重要性が一段と増していると説明し、注意喚起、"
            "在留届・「たびレジ」の登録促進、新たに始めた情報発信などの取組を紹介しました。また、"
            "参加組織の後援や共催を得た国内安全対策セミナーの対面開催の回数を増やしたこと、"
            "JETROの協力による啓発フライヤーの配布を強化したことなど、"
            "参加団体との連携が進んでいることに触れました。参加組織は主に2023年度（令和5年度）"
            "の取組を報告し、現在の課題と今後の活動方針を示しました。\n"
            "\n"
            "会合では、啓発活動が引き続き積極的に行われ、"
            "外務省の情報発信が参加組織から傘下企業へさらに広がるなど、連携が進んでいることを確認しました。"
            "中堅・中小企業の安全対策を進めるため、今後も団体や関係省庁との連携を深め、"
            "協力を具体化していくことになりました。"
        ),
        summary_en=(
            "Held in hybrid format as the 7th meeting had been, it opened with an in-person greeting by "
            "State Minister for Foreign Affairs Yoshifumi Tsuge (the text was published).\n"
            "\n"
            "MOFA explained that, given recent world events, protecting Japanese nationals in emergencies "
            "matters more than ever, and presented its alerts, its work to increase residence registrations "
            "and Tabireg registrations, and its newly started information outreach. It noted that "
            "cooperation with the member organizations was advancing, for example more in-person domestic "
            "safety seminars held with members' sponsorship or co-organization, and wider distribution of "
            "awareness flyers with JETRO's help. The members reported mainly on their work in fiscal 2023, "
            "their current challenges and their plans.\n"
            "\n"
            "The meeting confirmed that awareness-raising continued actively and that cooperation was "
            "advancing, with MOFA's information being passed on by members to their affiliated companies. To "
            "advance SMEs' safety measures, it was agreed to keep working with organizations and the "
            "ministries and agencies concerned and to turn that cooperation into concrete action."
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
    MeetingData(
        kind="secretariat",
        number=1,
        held_on=date(2016, 12, 1),
        format=None,
        opened_by_ja="",
        opened_by_en="",
        summary_ja=(
            "参加組織が、それぞれの取組を次のように紹介しました。\n"
            "\n"
            "- **日本商工会議所**：中小企業輸出投資専門委員会を設け、「テロ安全対策について外務省と共同研究」"
            "を検討テーマの一つとしたほか、各地の商工会議所の役員や会員企業が参加する委員会・部会でも安全対策"
            "を議論。\n"
            "- **日本貿易振興機構（JETRO）**：全国の貿易情報センターを拠点に、外務省、経済産業省、"
            "日本商工会議所、各地の商工会議所などと連携して各地で安全対策セミナーを開催。"
            "新輸出大国コンソーシアムの枠組みで、企業が危機管理会社に無料で安全対策を相談できる窓口を設置。\n"
            "- **中小企業基盤整備機構**：中小企業大学校の中小企業向け講座や海外展開セミナーで、"
            "外務省の安全対策パンフレットを配布。\n"
            "- **全国中小企業団体中央会**：機関誌で安全対策の特集記事を掲載する予定。\n"
            "- **日本貿易会**：海外安全対策を主要な活動の一つに位置づけ、会員企業間の情報共有を推進。"
        ),
        summary_en=(
            "The member organizations presented their work as follows.\n"
            "\n"
            "- **The Japan Chamber of Commerce and Industry** set up a committee on SME exports and "
            'investment, with "joint research with MOFA on safety measures against terrorism" as one of '
            "its themes, and also discusses safety measures in the committees and sections where officers of "
            "local chambers and member companies take part.\n"
            "- **JETRO** holds safety seminars around the country through its trade information centres, "
            "working with MOFA, METI, the Japan Chamber of Commerce and Industry and local chambers of "
            "commerce. Within the New Export Consortium it opened a desk where companies can consult a risk "
            "management firm about safety measures free of charge.\n"
            "- **SMRJ** hands out MOFA's safety pamphlets in its courses for SMEs at its SME training "
            "institute and at its seminars on overseas expansion.\n"
            "- **The National Federation of Small Business Associations (Chuokai)** plans a feature on "
            "safety measures in its magazine.\n"
            "- **The Japan Foreign Trade Council** counts overseas safety among its main activities and "
            "promotes information sharing among its member companies."
        ),
        links=(
            _NETWORK_PAGE_LINK,
            Link(
                title_ja="報道発表：「中堅・中小企業海外安全対策ネットワーク」第1回幹事会会合の開催",
                title_en="Press release: the 1st secretariat meeting (Japanese)",
                url="https://www.mofa.go.jp/mofaj/press/release/press4_003983.html",
            ),
        ),
    ),
    MeetingData(
        kind="secretariat",
        number=2,
        held_on=date(2017, 12, 20),
        format=None,
        opened_by_ja="",
        opened_by_en="",
        summary_ja=(
            "参加組織が、最近の取組と今後の活動方針を中心に、次の3つの分野について報告しました。\n"
            "\n"
            "1. 情報発信：国内外での安全対策セミナー、「ゴルゴ13の海外安全対策マニュアル」の活用など\n"
            "2. 国内各地での企業間の勉強会・意見交換会\n"
            "3. 企業向けのサポートサービスなど"
        ),
        summary_en=(
            "The member organizations reported, focusing on their recent work and their plans, on three "
            "areas:\n"
            "\n"
            "1. Providing information: safety seminars in Japan and abroad, use of the Golgo 13 overseas "
            "safety manual and more\n"
            "2. Study groups and exchanges of views among companies around Japan\n"
            "3. Support services for companies and similar work"
        ),
        links=(
            _NETWORK_PAGE_LINK,
            Link(
                title_ja="ゴルゴ13の中堅・中小企業向け海外安全対策マニュアル",
                title_en="The Golgo 13 overseas safety manual for SMEs (Japanese)",
                url="https://www.anzen.mofa.go.jp/anzen_info/golgo13xgaimusho.html",
            ),
        ),
    ),
    MeetingData(
        kind="secretariat",
        number=3,
        held_on=date(2018, 12, 7),
        format=None,
        opened_by_ja="",
        opened_by_en="",
        summary_ja=(
            "参加組織が、第3回本会合（2018年7月）以降の取組と今後の活動方針を中心に、"
            "次の3つの分野について報告しました。\n"
            "\n"
            "1. 情報発信：国内外での安全対策セミナー、機関誌・機関紙への掲載など\n"
            "2. 国内各地での企業間の勉強会・意見交換会\n"
            "3. 企業向けのサポートサービスなど"
        ),
        summary_en=(
            "The member organizations reported, focusing on their work since the 3rd plenary meeting in July "
            "2018 and their plans, on three areas:\n"
            "\n"
            "1. Providing information: safety seminars in Japan and abroad, articles in their magazines and "
            "newsletters and more\n"
            "2. Study groups and exchanges of views among companies around Japan\n"
            "3. Support services for companies and similar work"
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
    MeetingData(
        kind="secretariat",
        number=4,
        held_on=date(2019, 12, 13),
        format=None,
        opened_by_ja="",
        opened_by_en="",
        summary_ja=(
            "参加組織が、第4回本会合（2019年8月）以降の取組と今後の活動方針を中心に、"
            "情報発信（国内外での安全対策セミナー、機関誌・機関紙への掲載など）、"
            "国内各地での企業間の勉強会・意見交換会、企業向けのサポートサービスなどについて報告しました。\n"
            "\n"
            "外務省は、邦人保護にあたる「海外緊急展開チーム（ERT）」の取組を紹介しました。さらに、"
            "ネットワーク発足当初からの歩みを振り返りながら、今後の課題などを話し合いました。"
        ),
        summary_en=(
            "The member organizations reported, focusing on their work since the 4th plenary meeting in "
            "August 2019 and their plans, on providing information (safety seminars in Japan and abroad, "
            "articles in their magazines and newsletters and more), study groups and exchanges of views "
            "among companies around Japan, and support services for companies.\n"
            "\n"
            "MOFA introduced the work of its Emergency Response Team (ERT) in protecting Japanese nationals "
            "abroad. Looking back on the network since its founding, the meeting then discussed the issues "
            "ahead."
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
    MeetingData(
        kind="secretariat",
        number=5,
        held_on=date(2021, 3, 22),
        format=None,
        opened_by_ja="",
        opened_by_en="",
        summary_ja=(
            "外務省が最近のテロ・治安情勢を説明しました。"
            "新型コロナウイルス感染症の影響で安全対策に十分な資源を割けない企業もあるのではないかとの指摘を踏"
            "まえ、参加組織に対し、会員企業など関係する中堅・中小企業へ機会をとらえて海外安全に関する情報を届"
            "けるよう呼びかけました。\n"
            "\n"
            "続いて、3月15日の第5回本会合で確認された今後の課題を踏まえ、議論の活性化や活動内容の充実など、"
            "改善に向けた具体策を話し合いました。2021年度（令和3年度）以降、"
            "可能な範囲で取り組むことを確認しました。"
        ),
        summary_en=(
            "MOFA explained the recent terrorism and security situation. Noting concerns that some "
            "companies, hit by COVID-19, could not put enough resources into safety measures, it asked the "
            "member organizations to take every chance to share overseas safety information with the SMEs "
            "they are connected with, such as their member companies.\n"
            "\n"
            "Building on the open issues confirmed at the 5th plenary meeting on 15 March, the meeting then "
            "discussed concrete steps for improvement, such as livelier discussion and richer activities, "
            "and confirmed that members would take them up as far as possible from fiscal 2021."
        ),
        links=(_NETWORK_PAGE_LINK,),
    ),
)

# In the order they appear in an issue. Yearly dates use the year 2000: only the month and day count.
PROMOTIONS: tuple[PromotionData, ...] = (
    PromotionData(
        slug="golgo13-manual",
        title_ja="ゴルゴ13の中堅・中小企業向け海外安全対策マニュアル",
        title_en="The Golgo 13 overseas safety manual for SMEs",
        body_ja=(
            "劇画「ゴルゴ13」の主人公デューク東郷が、"
            "海外で事業を行う中堅・中小企業に安全対策の基本を指南するマニュアルです。"
            "各話の漫画に解説とチェックリストが付いていて、テロや犯罪への備えを短い時間で学べます。"
            "海外安全ホームページで全話を読めるので、社員を海外へ送り出す前の研修教材にお使いください。"
        ),
        body_en=(
            "In this manual Duke Togo, the hero of the *Golgo 13* manga, teaches small and medium-sized "
            "companies the basics of staying safe abroad. Each episode comes with commentary and a "
            "checklist, so you can learn how to prepare for terrorism and crime in little time. The whole "
            "series can be read on the Overseas Safety website: use it as training material before you send "
            "staff abroad."
        ),
        url="https://www.anzen.mofa.go.jp/anzen_info/golgo13xgaimusho.html",
        starts_on=date(2017, 6, 30),
        ends_on=None,
        yearly=False,
        position=10,
    ),
    PromotionData(
        slug="tabireg",
        title_ja="外務省海外旅行登録「たびレジ」",
        title_en="Tabireg, MOFA's travel registration",
        body_ja=(
            "「たびレジ」は、3か月未満の出張や旅行の予定を登録しておくと、渡航先の最新の安全情報や、"
            "緊急時の大使館・総領事館からの連絡をメールで受け取れる外務省の無料サービスです。"
            "出張者本人のほか、家族や職場のメールアドレスも追加で登録できるので、"
            "会社として社員の安否確認に役立ちます。出張が決まったら、出発前に必ず登録してください。"
        ),
        body_en=(
            "Register a business trip or holiday of less than three months on Tabireg, MOFA's free service, "
            "and you receive the latest safety information for your destination and, in an emergency, "
            "messages from the embassy or consulate by email. Besides the traveller, family members or the "
            "workplace can be added as recipients, which helps your company confirm that its staff are safe. "
            "Register before every trip."
        ),
        url="https://www.ezairyu.mofa.go.jp/tabireg/",
        starts_on=None,
        ends_on=None,
        yearly=False,
        position=20,
    ),
    PromotionData(
        slug="residence-registration",
        title_ja="在留届",
        title_en="Residence registration",
        body_ja=(
            "外国に住所や居所を定めて3か月以上滞在する方は、旅券法により、"
            "管轄の大使館・総領事館へ在留届を出すことが義務付けられています。在留届は、"
            "事件・事故や災害が起きたときの安否確認や緊急連絡に使われ、オンライン在留届（ORRネット）"
            "から提出できます。駐在員とご家族が赴任したらすぐに届け出て、転居や帰国の際の届出もお忘れなく。"
        ),
        body_en=(
            "Under the Passport Act, anyone who settles abroad for three months or more must submit a "
            "residence registration to the Japanese embassy or consulate in charge. Embassies use it to "
            "confirm people's safety and to reach them after incidents, accidents and disasters, and it can "
            "be filed online through ORRnet. Have staff posted abroad and their families register as soon as "
            "they arrive, and report moves and returns too."
        ),
        url="https://www.ezairyu.mofa.go.jp/RRnet/index.html",
        starts_on=None,
        ends_on=None,
        yearly=False,
        position=30,
    ),
    PromotionData(
        slug="overseas-safety-website",
        title_ja="外務省 海外安全ホームページ",
        title_en="MOFA's Overseas Safety website",
        body_ja=(
            "海外安全ホームページでは、国・地域ごとの危険情報や感染症危険情報、"
            "最新のスポット情報・広域情報を確認できます。出張や駐在を計画するときは、"
            "まず渡航先の危険レベルと最新の注意喚起を確かめてください。"
        ),
        body_en=(
            "The Overseas Safety website shows the risk information and infectious-disease risk information "
            "for each country and region, along with the latest alerts. When you plan a business trip or a "
            "posting, check the risk level and the latest warnings for the destination first."
        ),
        url="https://www.anzen.mofa.go.jp/",
        starts_on=None,
        ends_on=None,
        yearly=False,
        position=40,
    ),
    PromotionData(
        slug="safety-quiz",
        title_ja="海外安全クイズ",
        title_en="Overseas Safety Quiz",
        body_ja=(
            "海外でありがちな場面を題材に、安全対策の知識を三択で確かめられるオンラインのクイズです。"
            "2019年4月に公開され、海外出張（初級・中級）編、駐在員編、危機管理担当者編からなる「出張・駐在」"
            "編も用意されています。出張前の確認や社内研修にお使いください。"
        ),
        body_en=(
            "This online quiz tests your safety knowledge with multiple-choice questions built on situations "
            "that often happen abroad. Launched in April 2019, it includes a business-trip and posting "
            "edition with beginner and intermediate business-trip sets, a set for staff posted abroad and a "
            "set for risk managers. Use it before a trip or in staff training."
        ),
        url="https://www.anzen.mofa.go.jp/anzen_info/quiz/index.html",
        starts_on=date(2019, 4, 1),
        ends_on=None,
        yearly=False,
        position=50,
    ),
    PromotionData(
        slug="safety-seminars",
        title_ja="安全対策セミナー",
        title_en="Safety seminars",
        body_ja=(
            "外務省は、企業の海外安全担当者などを対象に、国内外で安全対策セミナーを開いています。"
            "ネットワーク参加組織などが主催するセミナーや企業間の勉強会にも、"
            "領事局の職員を講師として派遣しています。最新の治安情勢と企業としての備えを直接聞ける機会として、"
            "ぜひご参加ください。"
        ),
        body_en=(
            "MOFA holds safety seminars in Japan and abroad for the people in charge of overseas safety at "
            "companies. It also sends Consular Affairs Bureau staff as lecturers to seminars and company "
            "study groups organized by network members and others. Join one to hear first-hand about the "
            "current security situation and how a company can prepare."
        ),
        url="https://www.anzen.mofa.go.jp/",
        starts_on=None,
        ends_on=None,
        yearly=False,
        position=60,
    ),
    PromotionData(
        slug="summer-safety-month",
        title_ja="夏の海外安全強化月間",
        title_en="Summer Overseas Safety Month",
        body_ja=(
            "海外への渡航が増える7月と8月を、外務省は「夏の海外安全強化月間」"
            "として海外での安全対策を重点的に呼びかけています。夏休みの出張や旅行の前に、"
            "渡航先の安全情報の確認と「たびレジ」への登録を社員の皆様にお声がけください。"
        ),
        body_en=(
            "July and August, when travel abroad peaks, are MOFA's Summer Overseas Safety Month, with a "
            "special push on safety abroad. Before summer trips and holidays, remind your staff to check the "
            "safety information for their destination and to register on Tabireg."
        ),
        url="https://www.anzen.mofa.go.jp/",
        starts_on=date(2000, 7, 1),
        ends_on=date(2000, 8, 31),
        yearly=True,
        position=70,
    ),
    PromotionData(
        slug="awareness-flyer",
        title_ja="JETROと連携した海外安全の啓発フライヤー",
        title_en="Overseas safety flyer distributed with JETRO",
        body_ja=(
            "外務省は、JETRO（日本貿易振興機構）の協力を得て、"
            "海外安全対策の啓発フライヤーの配布を強化しています。社内での回覧や掲示、"
            "海外へ出張する社員への配布にお役立てください。"
        ),
        body_en=(
            "With the help of JETRO, MOFA is distributing more of its flyers that raise awareness of safety "
            "abroad. Circulate or post one in your office, or hand it to staff before a trip abroad."
        ),
        url="https://www.anzen.mofa.go.jp/anzen_info/network.html",
        starts_on=date(2024, 1, 31),
        ends_on=None,
        yearly=False,
        position=80,
    ),
)
