"""Deterministic demo data: the customer portfolio of a Japanese B2B SaaS vendor.

`generate` fills a database with CSMs, accounts, contacts, subscriptions, opportunities and
six months of touchpoints that look like a real Japanese customer base: company names with
correct katakana readings, yen contracts, Japanese contact names and meeting notes.

Everything is drawn from one `random.Random(seed)` in a fixed order and every date is relative
to `timezone.localdate()`, so the same seed, size and day give the same data, and the
portfolio always looks current (renewals coming up, onboarding customers who started lately).
Rows are inserted with `bulk_create` in chunks of accounts, so 100,000 accounts fit in memory
and take minutes, not hours.
"""

from __future__ import annotations

import datetime
import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kizuna.core.models import Role, User
from kizuna.customers.choices import (
    Channel,
    Currency,
    Industry,
    LifecycleStage,
    OpportunityKind,
    OpportunityStage,
    Rating,
    Region,
    SubscriptionStatus,
    Tier,
    TouchpointKind,
)
from kizuna.customers.models import (
    Account,
    Contact,
    Opportunity,
    Subscription,
    TierPolicy,
    Touchpoint,
)
from kizuna.customers.services import refresh_rollups
from kizuna.health.services import ensure_default_scorecard
from kizuna.lifecycle.demo import seed_history as seed_lifecycle_history
from kizuna.lifecycle.services import ensure_default_rules

# Accounts generated and inserted together: big enough for efficient INSERTs, small enough
# that 100,000 accounts never sit in memory at once.
CHUNK_ACCOUNTS = 5_000
BATCH_SIZE = 2_500
MAX_ACCOUNTS = 1_000_000
CHURN_RATE = 0.07
HISTORY_DAYS = 182
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class SeedResult:
    """What `generate` created: row counts and the usernames of the demo users."""

    accounts: int
    contacts: int
    subscriptions: int
    opportunities: int
    touchpoints: int
    users: list[str]


# --- Word lists ---------------------------------------------------------------------------
# Each word is (written form, katakana reading, ASCII slug); the reading and slug of a name
# are the concatenation of its words', which keeps `name_kana` and the domain correct.


class Word(NamedTuple):
    text: str
    kana: str
    slug: str
    region: str = ""  # for place names: the region the company is most likely in


def _words(table: str) -> tuple[Word, ...]:
    words = []
    for line in table.strip().splitlines():
        text, kana, slug, *region = line.split()
        words.append(Word(text, kana, slug, region[0] if region else ""))
    return tuple(words)


_PLACES = _words("""
東京 トウキョウ tokyo kanto
横浜 ヨコハマ yokohama kanto
千代田 チヨダ chiyoda kanto
丸の内 マルノウチ marunouchi kanto
武蔵 ムサシ musashi kanto
相模 サガミ sagami kanto
湘南 ショウナン shonan kanto
筑波 ツクバ tsukuba kanto
鎌倉 カマクラ kamakura kanto
大阪 オオサカ osaka kinki
浪速 ナニワ naniwa kinki
京都 キョウト kyoto kinki
神戸 コウベ kobe kinki
奈良 ナラ nara kinki
関西 カンサイ kansai kinki
紀伊 キイ kii kinki
名古屋 ナゴヤ nagoya chubu
三河 ミカワ mikawa chubu
浜松 ハママツ hamamatsu chubu
静岡 シズオカ shizuoka chubu
金沢 カナザワ kanazawa chubu
信濃 シナノ shinano chubu
北陸 ホクリク hokuriku chubu
新潟 ニイガタ niigata chubu
東海 トウカイ tokai chubu
札幌 サッポロ sapporo hokkaido
北海 ホッカイ hokkai hokkaido
仙台 センダイ sendai tohoku
東北 トウホク tohoku tohoku
みちのく ミチノク michinoku tohoku
広島 ヒロシマ hiroshima chugoku
岡山 オカヤマ okayama chugoku
瀬戸内 セトウチ setouchi chugoku
山陰 サンイン sanin chugoku
四国 シコク shikoku shikoku
讃岐 サヌキ sanuki shikoku
土佐 トサ tosa shikoku
福岡 フクオカ fukuoka kyushu
博多 ハカタ hakata kyushu
九州 キュウシュウ kyushu kyushu
熊本 クマモト kumamoto kyushu
琉球 リュウキュウ ryukyu kyushu
""")

_BRAND_WORDS = _words("""
北斗 ホクト hokuto
東洋 トウヨウ toyo
日本 ニホン nihon
大和 ヤマト yamato
富士 フジ fuji
朝日 アサヒ asahi
光 ヒカリ hikari
青葉 アオバ aoba
若葉 ワカバ wakaba
白鳥 シラトリ shiratori
高砂 タカサゴ takasago
中央 チュウオウ chuo
常盤 トキワ tokiwa
日の出 ヒノデ hinode
明星 ミョウジョウ myojo
昭和 ショウワ showa
平和 ヘイワ heiwa
太陽 タイヨウ taiyo
大地 ダイチ daichi
山王 サンノウ sanno
飛鳥 アスカ asuka
葵 アオイ aoi
松風 マツカゼ matsukaze
銀河 ギンガ ginga
サクラ サクラ sakura
ミドリ ミドリ midori
アオゾラ アオゾラ aozora
ヒマワリ ヒマワリ himawari
ツバサ ツバサ tsubasa
ミライ ミライ mirai
アスナロ アスナロ asunaro
コスモ コスモ cosmo
ノゾミ ノゾミ nozomi
カエデ カエデ kaede
アカツキ アカツキ akatsuki
イロハ イロハ iroha
ハヤテ ハヤテ hayate
ミナト ミナト minato
カナデ カナデ kanade
トモエ トモエ tomoe
コダマ コダマ kodama
オーシャン オーシャン ocean
ステラ ステラ stella
ルミナ ルミナ lumina
アルファ アルファ alpha
ネクスト ネクスト next
グローバル グローバル global
ユニオン ユニオン union
パシフィック パシフィック pacific
フロンティア フロンティア frontier
ブライト ブライト bright
スマイル スマイル smile
ハーモニー ハーモニー harmony
プライム プライム prime
クレスト クレスト crest
ベイサイド ベイサイド bayside
サンライズ サンライズ sunrise
グリーン グリーン green
エメラルド エメラルド emerald
オリオン オリオン orion
ペガサス ペガサス pegasus
シリウス シリウス sirius
アトラス アトラス atlas
ノーザン ノーザン northern
ゼニス ゼニス zenith
ライジング ライジング rising
アーク アーク arc
ソレイユ ソレイユ soleil
リバーサイド リバーサイド riverside
""")

SURNAMES = _words("""
佐藤 サトウ sato
鈴木 スズキ suzuki
高橋 タカハシ takahashi
田中 タナカ tanaka
伊藤 イトウ ito
渡辺 ワタナベ watanabe
山本 ヤマモト yamamoto
中村 ナカムラ nakamura
小林 コバヤシ kobayashi
加藤 カトウ kato
吉田 ヨシダ yoshida
山田 ヤマダ yamada
佐々木 ササキ sasaki
山口 ヤマグチ yamaguchi
松本 マツモト matsumoto
井上 イノウエ inoue
木村 キムラ kimura
林 ハヤシ hayashi
斎藤 サイトウ saito
清水 シミズ shimizu
山崎 ヤマザキ yamazaki
森 モリ mori
池田 イケダ ikeda
橋本 ハシモト hashimoto
阿部 アベ abe
石川 イシカワ ishikawa
山下 ヤマシタ yamashita
中島 ナカジマ nakajima
石井 イシイ ishii
小川 オガワ ogawa
前田 マエダ maeda
岡田 オカダ okada
長谷川 ハセガワ hasegawa
藤田 フジタ fujita
後藤 ゴトウ goto
近藤 コンドウ kondo
村上 ムラカミ murakami
遠藤 エンドウ endo
青木 アオキ aoki
坂本 サカモト sakamoto
福田 フクダ fukuda
太田 オオタ ota
西村 ニシムラ nishimura
藤井 フジイ fujii
金子 カネコ kaneko
岡本 オカモト okamoto
藤原 フジワラ fujiwara
中野 ナカノ nakano
三浦 ミウラ miura
原田 ハラダ harada
中川 ナカガワ nakagawa
松田 マツダ matsuda
竹内 タケウチ takeuchi
小野 オノ ono
田村 タムラ tamura
中山 ナカヤマ nakayama
和田 ワダ wada
石田 イシダ ishida
森田 モリタ morita
上田 ウエダ ueda
柴田 シバタ shibata
酒井 サカイ sakai
工藤 クドウ kudo
横山 ヨコヤマ yokoyama
宮崎 ミヤザキ miyazaki
宮本 ミヤモト miyamoto
内田 ウチダ uchida
高木 タカギ takagi
安藤 アンドウ ando
谷口 タニグチ taniguchi
丸山 マルヤマ maruyama
今井 イマイ imai
高田 タカダ takada
藤本 フジモト fujimoto
武田 タケダ takeda
村田 ムラタ murata
上野 ウエノ ueno
杉山 スギヤマ sugiyama
増田 マスダ masuda
平野 ヒラノ hirano
大塚 オオツカ otsuka
千葉 チバ chiba
久保 クボ kubo
松井 マツイ matsui
小島 コジマ kojima
岩崎 イワサキ iwasaki
桜井 サクライ sakurai
野口 ノグチ noguchi
松尾 マツオ matsuo
野村 ノムラ nomura
木下 キノシタ kinoshita
菊地 キクチ kikuchi
佐野 サノ sano
大西 オオニシ onishi
杉本 スギモト sugimoto
新井 アライ arai
""")

GIVEN_NAMES = _words("""
太郎 タロウ taro
健太 ケンタ kenta
翔太 ショウタ shota
大輔 ダイスケ daisuke
直樹 ナオキ naoki
拓也 タクヤ takuya
誠 マコト makoto
亮 リョウ ryo
健一 ケンイチ kenichi
浩二 コウジ koji
和也 カズヤ kazuya
達也 タツヤ tatsuya
隆 タカシ takashi
聡 サトシ satoshi
修 オサム osamu
剛 ツヨシ tsuyoshi
学 マナブ manabu
大樹 ダイキ daiki
悠斗 ユウト yuto
蓮 レン ren
陽介 ヨウスケ yosuke
雄一 ユウイチ yuichi
秀樹 ヒデキ hideki
正人 マサト masato
一郎 イチロウ ichiro
慎也 シンヤ shinya
智也 トモヤ tomoya
裕太 ユウタ yuta
康介 コウスケ kosuke
俊介 シュンスケ shunsuke
美咲 ミサキ misaki
結衣 ユイ yui
遥 ハルカ haruka
愛 アイ ai
陽子 ヨウコ yoko
由美 ユミ yumi
恵 メグミ megumi
裕子 ユウコ yuko
直美 ナオミ naomi
真由美 マユミ mayumi
彩 アヤ aya
麻衣 マイ mai
千尋 チヒロ chihiro
菜々子 ナナコ nanako
沙織 サオリ saori
香織 カオリ kaori
明美 アケミ akemi
智子 トモコ tomoko
恵子 ケイコ keiko
葵 アオイ aoi
さくら サクラ sakura
花子 ハナコ hanako
理恵 リエ rie
紗希 サキ saki
瞳 ヒトミ hitomi
奈緒 ナオ nao
莉子 リコ riko
美穂 ミホ miho
""")

# The first word of a company name: places, brand-like words and family names (山田製作所).
BRANDS = _PLACES + _BRAND_WORDS + SURNAMES

# Used only when a name is already taken: 「サクラ物流東日本」 reads like a regional subsidiary.
_BRANCHES = _words("""
東日本 ヒガシニホン higashinihon
西日本 ニシニホン nishinihon
関東 カントウ kanto
関西 カンサイ kansai
中部 チュウブ chubu
九州 キュウシュウ kyushu
北海道 ホッカイドウ hokkaido
東北 トウホク tohoku
四国 シコク shikoku
ジャパン ジャパン japan
""")


@dataclass(frozen=True)
class _IndustryWords:
    weight: int
    middles: tuple[Word, ...]  # optional second word: 東京「データ」システムズ
    businesses: tuple[Word, ...]  # what the company does: サクラ「物流」


INDUSTRIES: dict[str, _IndustryWords] = {
    Industry.SOFTWARE: _IndustryWords(
        24,
        _words("""
データ データ data
クラウド クラウド cloud
ネット ネット net
テック テック tech
インフォ インフォ info
ウェブ ウェブ web
デジタル デジタル digital
サイバー サイバー cyber
スマート スマート smart
ビジネス ビジネス business
コネクト コネクト connect
情報 ジョウホウ joho
ソフト ソフト soft
"""),
        _words("""
システムズ システムズ systems
テクノロジーズ テクノロジーズ technologies
ソリューションズ ソリューションズ solutions
ラボ ラボ lab
ソフトウェア ソフトウェア software
ネットワークス ネットワークス networks
コンピュータ コンピュータ computer
システム システム system
ワークス ワークス works
サービス サービス service
エンジニアリング エンジニアリング engineering
システム開発 システムカイハツ system-kaihatsu
情報システム ジョウホウシステム joho-system
電算 デンサン densan
インテグレーション インテグレーション integration
テクノロジー テクノロジー technology
"""),
    ),
    Industry.MANUFACTURING: _IndustryWords(
        18,
        _words("""
テクノ テクノ techno
精密 セイミツ seimitsu
電子 デンシ denshi
化成 カセイ kasei
技研 ギケン giken
ケミカル ケミカル chemical
メタル メタル metal
機械 キカイ kikai
"""),
        _words("""
精機 セイキ seiki
工業 コウギョウ kogyo
製作所 セイサクショ seisakusho
電機 デンキ denki
化学 カガク kagaku
金属 キンゾク kinzoku
電子 デンシ denshi
機械 キカイ kikai
工機 コウキ koki
精工 セイコウ seiko
産業 サンギョウ sangyo
樹脂 ジュシ jushi
鉄工 テッコウ tekko
光学 コウガク kogaku
電装 デンソウ denso
マテリアル マテリアル material
工作所 コウサクショ kosakusho
製造 セイゾウ seizo
重工業 ジュウコウギョウ jukogyo
化成工業 カセイコウギョウ kasei-kogyo
金型 カナガタ kanagata
機工 キコウ kiko
"""),
    ),
    Industry.RETAIL: _IndustryWords(
        13,
        _words("""
ファッション ファッション fashion
ホーム ホーム home
生活 セイカツ seikatsu
ライフ ライフ life
電器 デンキ denki
家具 カグ kagu
スポーツ スポーツ sports
ドラッグ ドラッグ drug
"""),
        _words("""
商事 ショウジ shoji
商店 ショウテン shoten
ストア ストア store
マート マート mart
百貨店 ヒャッカテン hyakkaten
リテール リテール retail
販売 ハンバイ hanbai
通販 ツウハン tsuhan
堂 ドウ do
屋 ヤ ya
ショップ ショップ shop
ストアーズ ストアーズ stores
センター センター center
物産 ブッサン bussan
商会 ショウカイ shokai
マーケット マーケット market
プラザ プラザ plaza
"""),
    ),
    Industry.SERVICES: _IndustryWords(
        12,
        _words("""
ビジネス ビジネス business
総合 ソウゴウ sogo
経営 ケイエイ keiei
人材 ジンザイ jinzai
マーケティング マーケティング marketing
キャリア キャリア career
ヒューマン ヒューマン human
ワーク ワーク work
グローバル グローバル global
"""),
        _words("""
コンサルティング コンサルティング consulting
総研 ソウケン soken
サービス サービス service
パートナーズ パートナーズ partners
マネジメント マネジメント management
アソシエイツ アソシエイツ associates
研究所 ケンキュウショ kenkyusho
サポート サポート support
スタッフ スタッフ staff
エージェント エージェント agent
ソリューション ソリューション solution
プランニング プランニング planning
アドバイザーズ アドバイザーズ advisors
オフィス オフィス office
クリエイト クリエイト create
"""),
    ),
    Industry.LOGISTICS: _IndustryWords(
        6,
        _words("""
総合 ソウゴウ sogo
国際 コクサイ kokusai
冷蔵 レイゾウ reizo
航空 コウクウ koku
港湾 コウワン kowan
"""),
        _words("""
物流 ブツリュウ butsuryu
運輸 ウンユ unyu
運送 ウンソウ unso
倉庫 ソウコ soko
ロジスティクス ロジスティクス logistics
海運 カイウン kaiun
エクスプレス エクスプレス express
陸運 リクウン rikuun
通運 ツウウン tsuun
トランスポート トランスポート transport
配送 ハイソウ haiso
"""),
    ),
    Industry.FINANCE: _IndustryWords(
        5,
        _words("""
総合 ソウゴウ sogo
フィナンシャル フィナンシャル financial
ライフ ライフ life
"""),
        _words("""
証券 ショウケン shoken
保険 ホケン hoken
ファイナンス ファイナンス finance
リース リース lease
キャピタル キャピタル capital
投資顧問 トウシコモン toshi-komon
カード カード card
損害保険 ソンガイホケン songai-hoken
生命保険 セイメイホケン seimei-hoken
信託 シンタク shintaku
アセットマネジメント アセットマネジメント asset-management
クレジット クレジット credit
保険サービス ホケンサービス hoken-service
"""),
    ),
    Industry.HEALTHCARE: _IndustryWords(
        5,
        _words("""
メディカル メディカル medical
ライフ ライフ life
バイオ バイオ bio
ケア ケア care
"""),
        _words("""
メディカル メディカル medical
製薬 セイヤク seiyaku
薬品 ヤクヒン yakuhin
ヘルスケア ヘルスケア healthcare
医療サービス イリョウサービス iryo-service
調剤薬局 チョウザイヤッキョク chozai-yakkyoku
介護サービス カイゴサービス kaigo-service
ファーマ ファーマ pharma
医療器 イリョウキ iryoki
バイオ バイオ bio
医薬 イヤク iyaku
ケアサービス ケアサービス care-service
"""),
    ),
    Industry.CONSTRUCTION: _IndustryWords(
        5,
        _words("""
総合 ソウゴウ sogo
都市 トシ toshi
住宅 ジュウタク jutaku
"""),
        _words("""
建設 ケンセツ kensetsu
工務店 コウムテン komuten
不動産 フドウサン fudosan
住宅 ジュウタク jutaku
ハウス ハウス house
地所 ジショ jisho
組 グミ gumi
建工 ケンコウ kenko
設備 セツビ setsubi
開発 カイハツ kaihatsu
ホーム ホーム home
エステート エステート estate
土木 ドボク doboku
建築 ケンチク kenchiku
"""),
    ),
    Industry.MEDIA: _IndustryWords(
        4,
        _words("""
クリエイティブ クリエイティブ creative
映像 エイゾウ eizo
総合 ソウゴウ sogo
"""),
        _words("""
広告 コウコク kokoku
出版 シュッパン shuppan
メディア メディア media
放送 ホウソウ hoso
エージェンシー エージェンシー agency
企画 キカク kikaku
プロダクション プロダクション production
印刷 インサツ insatsu
コミュニケーションズ コミュニケーションズ communications
新聞社 シンブンシャ shimbunsha
デザイン デザイン design
パブリッシング パブリッシング publishing
"""),
    ),
    Industry.HOSPITALITY: _IndustryWords(
        4,
        _words("""
観光 カンコウ kanko
グルメ グルメ gourmet
"""),
        _words("""
フーズ フーズ foods
食品 ショクヒン shokuhin
ホテル ホテル hotel
観光 カンコウ kanko
ダイニング ダイニング dining
旅館 リョカン ryokan
フードサービス フードサービス food-service
製菓 セイカ seika
酒造 シュゾウ shuzo
ベーカリー ベーカリー bakery
リゾート リゾート resort
珈琲 コーヒー coffee
"""),
    ),
    Industry.EDUCATION: _IndustryWords(
        2,
        _words("""
進学 シンガク shingaku
英語 エイゴ eigo
"""),
        _words("""
教育 キョウイク kyoiku
学院 ガクイン gakuin
ゼミナール ゼミナール seminar
アカデミー アカデミー academy
ラーニング ラーニング learning
エデュケーション エデュケーション education
塾 ジュク juku
スクール スクール school
教育研究所 キョウイクケンキュウショ kyoiku-kenkyusho
"""),
    ),
    Industry.PUBLIC: _IndustryWords(
        1,
        _words("""
地域 チイキ chiiki
"""),
        _words("""
地域振興 チイキシンコウ chiiki-shinko
都市開発 トシカイハツ toshi-kaihatsu
公共サービス コウキョウサービス kokyo-service
交通 コウツウ kotsu
環境サービス カンキョウサービス kankyo-service
水道サービス スイドウサービス suido-service
総合管理 ソウゴウカンリ sogo-kanri
"""),
    ),
    Industry.OTHER: _IndustryWords(
        1,
        _words("""
ジャパン ジャパン japan
"""),
        _words("""
商会 ショウカイ shokai
興産 コウサン kosan
企業 キギョウ kigyo
ホールディングス ホールディングス holdings
興業 コウギョウ kogyo
産業 サンギョウ sangyo
エンタープライズ エンタープライズ enterprise
コーポレーション コーポレーション corporation
"""),
    ),
}

REGION_WEIGHTS: dict[str, int] = {
    Region.KANTO: 45,
    Region.KINKI: 17,
    Region.CHUBU: 13,
    Region.KYUSHU: 7,
    Region.TOHOKU: 4,
    Region.CHUGOKU: 4,
    Region.HOKKAIDO: 4,
    Region.SHIKOKU: 2,
    Region.OVERSEAS: 4,
}

# Fixed-line area codes by region, so a Kinki company's phone starts with 06.
_AREA_CODES: dict[str, tuple[str, ...]] = {
    Region.KANTO: ("03", "045", "048", "043"),
    Region.KINKI: ("06", "075", "078"),
    Region.CHUBU: ("052", "054", "076"),
    Region.KYUSHU: ("092", "096"),
    Region.TOHOKU: ("022",),
    Region.CHUGOKU: ("082", "086"),
    Region.HOKKAIDO: ("011",),
    Region.SHIKOKU: ("087", "088"),
}

# (username, family name, given name, role). CSMs 0–1 cover enterprise accounts, 2–3 the
# mid-market, 4–5 the small accounts that are not left in the pooled tech-touch queue.
DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("sato.misaki", "佐藤", "美咲", Role.CSM),
    ("suzuki.kenta", "鈴木", "健太", Role.CSM),
    ("tanaka.yui", "田中", "結衣", Role.CSM),
    ("ito.daisuke", "伊藤", "大輔", Role.CSM),
    ("watanabe.haruka", "渡辺", "遥", Role.CSM),
    ("nakamura.shota", "中村", "翔太", Role.CSM),
    ("manager", "高橋", "直樹", Role.MANAGER),
    ("viewer", "小林", "恵", Role.VIEWER),
)

PRODUCT = "Kizuna Cloud"
# Plan → list price per seat per month (yen).
PLAN_PRICES = {"Starter": 1_500, "Business": 2_500, "Enterprise": 4_000}
# Add-on → (price per seat per month, flat monthly fee).
ADD_ONS: dict[str, tuple[int, int]] = {
    "分析オプション": (500, 0),
    "API連携オプション": (0, 50_000),
    "セキュリティオプション": (300, 20_000),
    "プレミアムサポート": (0, 80_000),
}

_TITLES_DECISION = (
    "情報システム部 部長",
    "取締役 CTO",
    "執行役員 DX推進本部長",
    "経営企画部 部長",
    "営業本部 本部長",
    "管理本部 部長",
)
_TITLES_CHAMPION = (
    "情報システム部 課長",
    "DX推進室 マネージャー",
    "営業企画部 課長",
    "業務改革推進室 リーダー",
    "カスタマーサポート部 課長",
    "人事部 課長",
)
_TITLES_OTHER = (
    "情報システム部 主任",
    "営業企画部",
    "総務部",
    "経理部 係長",
    "マーケティング部",
    "カスタマーサポート部",
    "人事部",
    "開発部 エンジニア",
)

# --- Touchpoint texts -----------------------------------------------------------------------

HEALTHY, NEUTRAL, AT_RISK = 0, 1, 2

_FEATURES = (
    "ダッシュボード",
    "レポート機能",
    "ワークフロー",
    "承認フロー",
    "API連携",
    "モバイルアプリ",
    "権限管理",
    "SSO連携",
    "CSVインポート",
    "通知設定",
    "分析レポート",
    "検索機能",
)
_TRENDS = (
    ("伸びています", "定着してきました", "部門全体に広がっています"),
    ("横ばいです", "一部の部署に留まっています", "先月並みです"),
    ("減少しています", "ほとんど使われていません", "前月から落ち込んでいます"),
)
_LOGIN_RATES = ((70, 95), (45, 75), (12, 50))
_ACTIONS = (
    "活用状況レポートを共有する",
    "管理者向けトレーニングを実施する",
    "{feature}の設定を支援する",
    "利用部門へのヒアリングを調整する",
    "同業種の活用事例を紹介する",
    "次回定例で効果測定の結果を確認する",
    "エグゼクティブ面談を設定する",
)
_RISK_ACTIONS = (
    "解約リスクとしてマネージャーに共有する",
    "利用促進プランを提案する",
    "決裁者との面談を設定する",
)
_EMAIL_REPLIES = (
    "社内で共有するとの返信がありました。",
    "現時点で返信はありません。",
    "来週中に確認して連絡するとのことです。",
)
_TICKET_OUTCOMES = (
    "手順を案内し、解決済みです。",
    "回避策を案内し、恒久対応は開発チームで調査中です。",
    "ヘルプ記事を案内し、クローズしました。",
)
# kind → (subject, opening sentence). {who}: the contacts met, {feature}: a product feature.
_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    TouchpointKind.CALL: (
        ("定期フォローコール", "{who}と電話で近況を伺いました。"),
        ("利用状況のヒアリング", "{who}に{feature}の使い方について伺いました。"),
        ("問い合わせへの折り返し", "{who}から{feature}について質問があり、折り返しました。"),
    ),
    TouchpointKind.MEETING: (
        ("定例ミーティング：活用状況の確認", "{who}と月次の定例を実施しました。"),
        ("四半期ビジネスレビュー（QBR）", "{who}と四半期の成果と次期の目標を確認しました。"),
        ("活用推進ミーティング", "{who}と{feature}の展開計画を話し合いました。"),
        ("エグゼクティブレビュー", "{who}に導入効果をご報告しました。"),
    ),
    TouchpointKind.ONBOARDING: (
        ("キックオフミーティング", "{who}と導入スケジュールと成功の定義を合意しました。"),
        ("オンボーディング：初期設定", "{who}と組織・ユーザーの初期設定を行いました。"),
        ("管理者向けトレーニング", "{who}に{feature}の管理者向け設定を説明しました。"),
        ("データ移行の進捗確認", "{who}と既存システムからのデータ移行状況を確認しました。"),
        ("利用者向け操作説明会", "利用部門向けに基本操作の説明会を開催しました。"),
    ),
    TouchpointKind.EMAIL: (
        ("活用ガイドのご案内", "{who}に{feature}の活用ガイドを送付しました。"),
        ("新機能リリースのお知らせ", "{who}に{feature}の新機能をご案内しました。"),
        ("アンケートご協力のお願い", "{who}に満足度アンケートへの回答を依頼しました。"),
        ("QBR資料の送付", "{who}に四半期レビューの資料を送付しました。"),
    ),
    TouchpointKind.SEMINAR: (
        ("ユーザー会に参加", "{who}がユーザー会に参加し、他社事例に関心を示していました。"),
        ("ウェビナー：{feature}活用術", "{who}が{feature}のウェビナーに参加しました。"),
    ),
    TouchpointKind.NOTE: (
        ("社内メモ：利用状況の所感", "直近の利用データを確認しました。"),
        ("社内メモ：担当者異動の情報", "先方の担当者が来期に異動予定との情報がありました。"),
        ("社内メモ：アップセルの可能性", "他部署でも導入を検討しているとの情報がありました。"),
    ),
    TouchpointKind.TICKET: (
        (
            "問い合わせ：{feature}の設定方法",
            "{who}から{feature}の設定方法について質問がありました。",
        ),
        (
            "不具合報告：{feature}でエラーが発生",
            "{who}から{feature}でエラーが出るとの報告がありました。",
        ),
        (
            "問い合わせ：ユーザー追加の手順",
            "{who}からユーザー一括追加の手順について質問がありました。",
        ),
        ("要望：{feature}の改善", "{who}から{feature}の改善要望をいただきました。"),
    ),
}
_RENEWAL_MEETING = ("更新条件のご相談", "{who}と次年度の契約条件について協議しました。")

_KIND_WEIGHTS: dict[str, int] = {
    TouchpointKind.CALL: 20,
    TouchpointKind.MEETING: 18,
    TouchpointKind.EMAIL: 22,
    TouchpointKind.NOTE: 12,
    TouchpointKind.SEMINAR: 6,
    TouchpointKind.TICKET: 14,
}
_CHANNELS: dict[str, tuple[tuple[str, int], ...]] = {
    TouchpointKind.CALL: ((Channel.PHONE, 7), (Channel.VIDEO, 3)),
    TouchpointKind.MEETING: ((Channel.VIDEO, 6), (Channel.ONSITE, 4)),
    TouchpointKind.ONBOARDING: ((Channel.VIDEO, 7), (Channel.ONSITE, 3)),
    TouchpointKind.EMAIL: ((Channel.EMAIL, 1),),
    TouchpointKind.SEMINAR: ((Channel.EVENT, 1), (Channel.VIDEO, 1)),
    TouchpointKind.NOTE: (("", 1),),
    TouchpointKind.TICKET: ((Channel.CHAT, 5), (Channel.EMAIL, 4), (Channel.PHONE, 1)),
}
# Chance that a touchpoint of this kind names the contacts involved.
_LINK_CHANCE: dict[str, float] = {
    TouchpointKind.CALL: 0.85,
    TouchpointKind.MEETING: 0.85,
    TouchpointKind.ONBOARDING: 0.85,
    TouchpointKind.EMAIL: 0.7,
    TouchpointKind.SEMINAR: 0.5,
    TouchpointKind.TICKET: 0.6,
    TouchpointKind.NOTE: 0.15,
}
# Rating weights (very good, good, poor) by account health: the signal health scores read.
_RATING_WEIGHTS = ((45, 45, 10), (20, 60, 20), (5, 35, 60))
_RATINGS = (Rating.VERY_GOOD, Rating.GOOD, Rating.POOR)


# --- Helpers ------------------------------------------------------------------------------


class _Weighted[T]:
    """A fixed weighted population, sampled with one `rng.random()` call (cheap and stable)."""

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        self.values = [value for value, _weight in items]
        self.cumulative = list(accumulate(weight for _value, weight in items))

    def pick(self, rng: random.Random) -> T:
        point = rng.random() * self.cumulative[-1]
        return self.values[bisect_right(self.cumulative, point)]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier), clamped to the month's end (31 Jan → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    if month == 12:
        last = 31
    else:
        last = (datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))


def next_anniversary(start: datetime.date, term_months: int, today: datetime.date) -> datetime.date:
    """The first end of a `term_months` contract term after today (contracts auto-renew)."""
    elapsed = (today.year - start.year) * 12 + today.month - start.month
    terms = max(1, elapsed // term_months)
    end = add_months(start, terms * term_months)
    while end <= today:
        terms += 1
        end = add_months(start, terms * term_months)
    return end


_KANA_DIGITS = ("ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ")


def _joined(parts: list[Word]) -> str:
    return "".join(word.text for word in parts)


def _number_kana(number: int) -> str:
    # Digit by digit is how serial numbers are read aloud; only used for the rare fallback.
    return "".join(_KANA_DIGITS[int(digit)] for digit in str(number))


class _Namer:
    """Draws unique company names, readings and domains."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.domains: set[str] = set()
        self.brands = list(BRANDS)

    def company(self, industry: str) -> tuple[str, str, str, str, str]:
        """(full name, kana, domain, name without company form, region hint)."""
        rng = self.rng
        words = INDUSTRIES[industry]
        parts: list[Word] = []
        for attempt in range(8):
            brand = rng.choice(self.brands)
            business = rng.choice(words.businesses)
            # Short names first; once they are taken, the much larger three-word space.
            middle = rng.choice(words.middles) if attempt > 1 or rng.random() < 0.4 else None
            if middle and (
                middle.text in business.text
                or business.text in middle.text
                or middle.text in brand.text
            ):
                middle = None
            parts = [brand, middle, business] if middle else [brand, business]
            if _joined(parts) not in self.names:
                break
        else:
            # This industry's combinations are running out: add a regional suffix, and as a
            # last resort a number, which always terminates.
            base = parts
            for _attempt in range(8):
                parts = [*base, rng.choice(_BRANCHES)]
                if _joined(parts) not in self.names:
                    break
            else:
                number = 2
                while f"{_joined(parts)}第{number}" in self.names:
                    number += 1
                parts.append(Word(f"第{number}", f"ダイ{_number_kana(number)}", f"no{number}"))
        core = _joined(parts)
        self.names.add(core)
        kana = "".join(word.kana for word in parts)

        form = rng.random()
        if form < 0.48:
            name = f"株式会社{core}"
        elif form < 0.92:
            name = f"{core}株式会社"
        elif form < 0.98:
            name = f"{core}合同会社"
        else:
            name = f"有限会社{core}"

        slug = "-".join(word.slug for word in parts)
        # Under the reserved example.* domains: demo contacts' addresses must never reach a
        # real mailbox, even on a demo whose SMTP is configured.
        tld = (
            ".example.co.jp" if rng.random() < 0.85 else rng.choice((".example.jp", ".example.com"))
        )
        domain = f"{slug}{tld}"
        number = 2
        while domain in self.domains:
            domain = f"{slug}{number}{tld}"
            number += 1
        self.domains.add(domain)
        return name, kana, domain, core, parts[0].region


@dataclass(slots=True)
class _Plan:
    """One account being generated, with what later steps need to stay consistent."""

    account: Account
    core_name: str
    domain: str
    employees: int
    seats: int
    plan: str
    arr: int
    health: int
    churned: bool
    start: datetime.date
    end: datetime.date
    subscriptions: list[Subscription] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    touchpoint_weight: float = 1.0


@dataclass
class _Counts:
    accounts: int = 0
    contacts: int = 0
    subscriptions: int = 0
    opportunities: int = 0
    touchpoints: int = 0


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        today: datetime.date,
        csms: list[User],
        touchpoints_per_account: float,
    ) -> None:
        self.rng = rng
        self.today = today
        self.csms = csms
        self.touchpoints_per_account = touchpoints_per_account
        policy = TierPolicy.current()
        self.high_arr = int(policy.high_touch_min_arr)
        self.low_arr = int(policy.low_touch_min_arr)
        self.namer = _Namer(rng)
        self.counts = _Counts()
        self.contact_serial = 0
        self.opportunity_serial = 0
        self.industries = _Weighted([(key, words.weight) for key, words in INDUSTRIES.items()])
        self.regions = _Weighted(list(REGION_WEIGHTS.items()))
        self.kinds = _Weighted(list(_KIND_WEIGHTS.items()))
        self.onboarding_kinds = _Weighted([*_KIND_WEIGHTS.items(), (TouchpointKind.ONBOARDING, 35)])
        self.channels = {kind: _Weighted(items) for kind, items in _CHANNELS.items()}
        self.ratings = [_Weighted(list(zip(_RATINGS, w, strict=True))) for w in _RATING_WEIGHTS]
        self.history_start = today - datetime.timedelta(days=HISTORY_DAYS)
        self.latest_renewal = add_months(today, 18)

    # One chunk: accounts first (their ids are needed), then what hangs off them.
    def chunk(self, first: int, size: int, churned: set[int]) -> None:
        plans = [self._plan_account(n, n in churned) for n in range(first, first + size)]
        Account.objects.bulk_create([plan.account for plan in plans], batch_size=BATCH_SIZE)

        subscriptions: list[Subscription] = []
        contacts: list[Contact] = []
        opportunities: list[Opportunity] = []
        for plan in plans:
            subscriptions.extend(plan.subscriptions)
            plan.contacts = self._contacts(plan)
            contacts.extend(plan.contacts)
            opportunity = self._opportunity(plan)
            if opportunity is not None:
                opportunities.append(opportunity)
        Subscription.objects.bulk_create(subscriptions, batch_size=BATCH_SIZE)
        Contact.objects.bulk_create(contacts, batch_size=BATCH_SIZE)
        Opportunity.objects.bulk_create(opportunities, batch_size=BATCH_SIZE)

        touchpoints, links = self._touchpoints(plans)
        Touchpoint.objects.bulk_create(touchpoints, batch_size=BATCH_SIZE)
        through = Touchpoint.contacts.through
        through.objects.bulk_create(
            [
                through(touchpoint_id=touchpoint.pk, contact_id=contact.pk)
                for touchpoint, contact in links
            ],
            batch_size=BATCH_SIZE,
        )

        self.counts.accounts += len(plans)
        self.counts.subscriptions += len(subscriptions)
        self.counts.contacts += len(contacts)
        self.counts.opportunities += len(opportunities)
        self.counts.touchpoints += len(touchpoints)

    def _plan_account(self, index: int, churned: bool) -> _Plan:
        rng, today = self.rng, self.today
        industry = self.industries.pick(rng)
        name, kana, domain, core, region_hint = self.namer.company(industry)
        region = region_hint if region_hint and rng.random() < 0.8 else self.regions.pick(rng)
        # Log-uniform: as many companies of 10–100 employees as of 1,000–10,000.
        employees = round(10 ** rng.uniform(1, math.log10(20_000)))
        # Bigger companies roll the product out to a smaller share of their staff; tuned so
        # that with the default thresholds ~20% are high touch, ~40% low and ~40% tech touch.
        share = 10 ** rng.uniform(math.log10(0.1), math.log10(0.8)) / math.sqrt(employees / 100)
        seats = min(2_000, max(5, round(employees * share)))
        plan_name = self._plan_name(seats)
        discount = rng.uniform(0, min(0.2, seats / 4_000))
        mrr = max(5_000, int(round(seats * PLAN_PRICES[plan_name] * (1 - discount), -3)))

        status = SubscriptionStatus.ACTIVE
        term = 24 if rng.random() < 0.2 else 12
        if churned:
            # Within the half year of demo usage, so a backtest sees how they left.
            end = today - datetime.timedelta(days=rng.randint(1, 170))
            start = add_months(end, -term * (1 if term == 24 else rng.randint(1, 2)))
            status = SubscriptionStatus.CHURNED
        else:
            start = today - datetime.timedelta(days=rng.randint(0, 3 * 365))
            if (today - start).days < 90 and rng.random() < 0.25:
                # A trial: started in the last month, ends 30 days after its start.
                start = today - datetime.timedelta(days=(today - start).days % 30)
                end = start + datetime.timedelta(days=30)
                status = SubscriptionStatus.TRIAL
            else:
                end = next_anniversary(start, term, today)
                if end > self.latest_renewal:
                    # Keep renewals within 18 months: two-year deals only for older customers.
                    end = next_anniversary(start, 12, today)

        health = AT_RISK if churned else rng.choices((HEALTHY, NEUTRAL, AT_RISK), (55, 30, 15))[0]
        auto_renew = not churned and rng.random() < (0.7 if health == AT_RISK else 0.92)
        external = f"SF-{index + 1:06d}"
        main = Subscription(
            product=PRODUCT,
            plan=plan_name,
            seats=seats,
            mrr=Decimal(mrr),
            arr=Decimal(mrr * 12),
            currency=Currency.JPY,
            start_date=start,
            end_date=end,
            status=status,
            auto_renew=auto_renew,
            external_id=f"{external}-S1",
        )
        subscriptions = [main]
        arr = mrr * 12
        if status != SubscriptionStatus.TRIAL and rng.random() < 0.25:
            add_on = rng.choice(list(ADD_ONS))
            per_seat, flat = ADD_ONS[add_on]
            add_on_mrr = max(5_000, round(seats * per_seat + flat, -3))
            latest_start = min(today, end - datetime.timedelta(days=1))
            add_on_start = start + datetime.timedelta(
                days=rng.randint(0, max(0, (latest_start - start).days))
            )
            subscriptions.append(
                Subscription(
                    product=add_on,
                    plan="アドオン",
                    seats=seats if per_seat else 1,
                    mrr=Decimal(add_on_mrr),
                    arr=Decimal(add_on_mrr * 12),
                    currency=Currency.JPY,
                    start_date=add_on_start,
                    end_date=end,  # co-termed with the main contract
                    status=status,
                    auto_renew=auto_renew,
                    external_id=f"{external}-S2",
                )
            )
            arr += add_on_mrr * 12

        if churned:
            stage = LifecycleStage.CHURNED
        elif start > add_months(today, -3):
            stage = LifecycleStage.ONBOARDING
        elif start > add_months(today, -9):
            stage = LifecycleStage.ADOPTION
        elif (end - today).days <= 90:
            stage = LifecycleStage.RENEWAL
        else:
            stage = LifecycleStage.VALUE
        # The day it entered that stage. The jitter is not drawn from `rng`, so that the
        # rest of the portfolio stays what it was.
        jitter = datetime.timedelta(days=(index * 7919) % 29)
        if churned:
            entered = min(end, today)
        elif stage == LifecycleStage.ONBOARDING:
            entered = start
        elif stage == LifecycleStage.ADOPTION:
            entered = start + datetime.timedelta(days=30) + jitter
        elif stage == LifecycleStage.RENEWAL:
            entered = max(start, end - datetime.timedelta(days=90))
        else:
            last_renewal = add_months(end, -term)
            entered = max(start + datetime.timedelta(days=180), last_renewal) + jitter
        entered = min(entered, today)
        live_arr = 0 if churned else arr
        tier = (
            Tier.HIGH_TOUCH
            if live_arr >= self.high_arr
            else Tier.LOW_TOUCH
            if live_arr >= self.low_arr
            else Tier.TECH_TOUCH
        )

        owner = self._owner(arr)
        account = Account(
            name=name,
            name_kana=kana,
            domain=domain,
            industry=industry,
            employees=employees,
            region=region,
            external_id=external,
            owner=owner,
            stage=stage,
            stage_entered_on=entered,
            # Tiered as refresh_rollups will, so the demo starts without tier changes.
            tier=tier,
            custom_attributes={},
        )
        # bulk_create skips save(), which is what normally fills search_text.
        account.search_text = account.build_search_text()
        for subscription in subscriptions:
            subscription.account = account

        weight = 2.0 if arr >= self.high_arr else 1.0 if arr >= self.low_arr else 0.6
        if stage == LifecycleStage.ONBOARDING:
            weight *= 3  # onboarding is intense, but only covers the weeks since the start
        return _Plan(
            account=account,
            core_name=core,
            domain=domain,
            employees=employees,
            seats=seats,
            plan=plan_name,
            arr=arr,
            health=health,
            churned=churned,
            start=start,
            end=end,
            subscriptions=subscriptions,
            touchpoint_weight=weight,
        )

    def _plan_name(self, seats: int) -> str:
        roll = self.rng.random()
        if seats < 30:
            return "Starter" if roll < 0.8 else "Business"
        if seats < 300:
            return "Business" if roll < 0.75 else "Starter" if roll < 0.87 else "Enterprise"
        return "Enterprise" if roll < 0.75 else "Business"

    def _owner(self, arr: int) -> User | None:
        rng, csms = self.rng, self.csms
        if arr >= self.high_arr:
            return csms[rng.randrange(0, 2)]
        if arr >= self.low_arr:
            return csms[rng.randrange(2, 4)]
        # Most small accounts (~20% of all) stay in the unowned, pooled tech-touch queue.
        if rng.random() < 0.6:
            return None
        return csms[rng.randrange(4, 6)]

    def _contacts(self, plan: _Plan) -> list[Contact]:
        rng = self.rng
        if plan.arr >= self.high_arr:
            count = rng.randint(4, 6)
        elif plan.arr >= self.low_arr:
            count = rng.randint(3, 5)
        else:
            count = rng.randint(2, 3)
        has_decision_maker = rng.random() < 0.9
        has_champion = rng.random() < 0.9
        contacts = []
        emails: set[str] = set()
        region = plan.account.region
        for position in range(count):
            surname = rng.choice(SURNAMES)
            given = rng.choice(GIVEN_NAMES)
            local = f"{given.slug}.{surname.slug}"
            email = f"{local}@{plan.domain}"
            number = 2
            while email in emails:
                email = f"{local}{number}@{plan.domain}"
                number += 1
            emails.add(email)
            decision = position == 0 and has_decision_maker
            champion = position == 1 and has_champion
            if decision:
                title = "代表取締役" if plan.employees < 50 else rng.choice(_TITLES_DECISION)
            elif champion:
                title = rng.choice(_TITLES_CHAMPION)
            else:
                title = rng.choice(_TITLES_OTHER)
            self.contact_serial += 1
            serial = self.contact_serial
            contacts.append(
                Contact(
                    account=plan.account,
                    name=f"{surname.text} {given.text}",
                    name_kana=f"{surname.kana} {given.kana}",
                    email=email,
                    phone=self._phone(region),
                    title=title,
                    is_champion=champion,
                    is_decision_maker=decision,
                    external_id=f"SF-C-{serial:07d}",
                    product_user_id=f"u_{serial:07d}",
                )
            )
        return contacts

    def _phone(self, region: str) -> str:
        rng = self.rng
        if region == Region.OVERSEAS:
            return f"+65 6{rng.randint(0, 999):03d} {rng.randint(0, 9999):04d}"
        if rng.random() < 0.25:
            return f"0{rng.choice('789')}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        area = rng.choice(_AREA_CODES[region])
        local = 4 if len(area) == 2 else 3
        exchange = rng.randint(10 ** (local - 1), 10**local - 1)
        return f"{area}-{exchange}-{rng.randint(0, 9999):04d}"

    def _opportunity(self, plan: _Plan) -> Opportunity | None:
        rng, today = self.rng, self.today
        if rng.random() >= 0.3:
            return None
        account = plan.account
        stage = OpportunityStage.QUALIFICATION
        if plan.churned:
            kind = OpportunityKind.RENEWAL
            name = f"{plan.core_name} 契約更新"
            amount = plan.arr
            stage = OpportunityStage.LOST
            close = plan.end
        elif plan.subscriptions[0].status == SubscriptionStatus.TRIAL:
            kind = OpportunityKind.RENEWAL
            name = f"{plan.core_name} 本契約への移行"
            amount = plan.arr
            stage = rng.choice((OpportunityStage.PROPOSAL, OpportunityStage.NEGOTIATION))
            close = plan.end
        elif account.stage == LifecycleStage.RENEWAL or rng.random() < 0.15:
            kind = OpportunityKind.RENEWAL
            name = f"{plan.core_name} 契約更新（{plan.end.year}年{plan.end.month}月）"
            amount = plan.arr
            stage = rng.choice(
                (
                    OpportunityStage.QUALIFICATION,
                    OpportunityStage.PROPOSAL,
                    OpportunityStage.NEGOTIATION,
                )
            )
            close = plan.end
        else:
            if rng.random() < 0.55:
                kind = OpportunityKind.UPSELL
                if plan.plan != "Enterprise" and rng.random() < 0.4:
                    target = "Business" if plan.plan == "Starter" else "Enterprise"
                    name = f"{plan.core_name} {target}プランへの移行"
                    amount = plan.seats * (PLAN_PRICES[target] - PLAN_PRICES[plan.plan]) * 12
                else:
                    extra = max(5, round(plan.seats * rng.uniform(0.1, 0.5)))
                    name = f"{plan.core_name} ライセンス追加（+{extra}席）"
                    amount = extra * PLAN_PRICES[plan.plan] * 12
            else:
                kind = OpportunityKind.CROSS_SELL
                add_on = rng.choice(list(ADD_ONS))
                per_seat, flat = ADD_ONS[add_on]
                name = f"{plan.core_name} {add_on}の追加"
                amount = (plan.seats * per_seat + flat) * 12
            if rng.random() < 0.35:
                stage = OpportunityStage.WON if rng.random() < 0.6 else OpportunityStage.LOST
                close = today - datetime.timedelta(days=rng.randint(1, 180))
            else:
                stage = rng.choice(
                    (
                        OpportunityStage.QUALIFICATION,
                        OpportunityStage.PROPOSAL,
                        OpportunityStage.NEGOTIATION,
                    )
                )
                close = today + datetime.timedelta(days=rng.randint(7, 150))
        self.opportunity_serial += 1
        return Opportunity(
            account=account,
            name=name,
            kind=kind,
            amount=Decimal(max(10_000, round(amount, -4))),
            currency=Currency.JPY,
            stage=stage,
            close_date=close,
            owner=account.owner,
            external_id=f"SF-O-{self.opportunity_serial:07d}",
        )

    def _touchpoints(
        self, plans: list[_Plan]
    ) -> tuple[list[Touchpoint], list[tuple[Touchpoint, Contact]]]:
        rng, today = self.rng, self.today
        yesterday = today - datetime.timedelta(days=1)
        windows: list[tuple[datetime.date, datetime.date] | None] = []
        for plan in plans:
            first = max(self.history_start, plan.start)
            last = (
                min(yesterday, plan.end - datetime.timedelta(days=1)) if plan.churned else yesterday
            )
            windows.append((first, last) if first <= last else None)
        # Spread the requested average over the accounts, in proportion to their size and to
        # how much of the six months they were customers.
        weights = [
            plan.touchpoint_weight
            * (0.5 if plan.churned else 1.0)
            * ((window[1] - window[0]).days + 1)
            / HISTORY_DAYS
            if window
            else 0.0
            for plan, window in zip(plans, windows, strict=True)
        ]
        total_weight = sum(weights) or 1.0
        scale = self.touchpoints_per_account * len(plans) / total_weight

        touchpoints: list[Touchpoint] = []
        links: list[tuple[Touchpoint, Contact]] = []
        for plan, window, weight in zip(plans, windows, weights, strict=True):
            if window is None:
                continue
            expected = weight * scale * rng.uniform(0.6, 1.4)
            count = int(expected) + (1 if rng.random() < expected % 1 else 0)
            for _ in range(count):
                touchpoint, contacts = self._touchpoint(plan, window)
                touchpoints.append(touchpoint)
                links.extend((touchpoint, contact) for contact in contacts)
        return touchpoints, links

    def _touchpoint(
        self, plan: _Plan, window: tuple[datetime.date, datetime.date]
    ) -> tuple[Touchpoint, list[Contact]]:
        rng = self.rng
        account = plan.account
        onboarding = account.stage == LifecycleStage.ONBOARDING
        kind = (self.onboarding_kinds if onboarding else self.kinds).pick(rng)

        first, last = window
        day = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
        if day.weekday() >= 5:  # weekend → the Friday before, or else the Monday after
            friday = day - datetime.timedelta(days=day.weekday() - 4)
            monday = day + datetime.timedelta(days=7 - day.weekday())
            day = friday if friday >= first else monday if monday <= last else day
        if kind in (TouchpointKind.EMAIL, TouchpointKind.NOTE, TouchpointKind.TICKET):
            hour, minute = rng.randint(9, 18), rng.randint(0, 59)
        else:
            hour, minute = rng.randint(9, 17), rng.choice((0, 0, 30))
        occurred = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)

        contacts: list[Contact] = []
        if plan.contacts and rng.random() < _LINK_CHANCE[kind]:
            how_many = 2 if len(plan.contacts) > 1 and rng.random() < 0.3 else 1
            contacts = rng.sample(plan.contacts, how_many)
        who = "・".join(f"{contact.name.split(' ')[0]}様" for contact in contacts) or "ご担当者様"

        templates = _TEMPLATES[kind]
        if kind == TouchpointKind.MEETING and account.stage == LifecycleStage.RENEWAL:
            templates = (*templates, _RENEWAL_MEETING, _RENEWAL_MEETING)
        subject, opening = rng.choice(templates)
        feature = rng.choice(_FEATURES)
        health = plan.health
        sentences = [opening]
        if kind == TouchpointKind.TICKET:
            sentences.append(rng.choice(_TICKET_OUTCOMES))
        elif kind == TouchpointKind.EMAIL:
            sentences.append(rng.choice(_EMAIL_REPLIES))
        else:
            low, high = _LOGIN_RATES[health]
            sentences.append(
                f"ログイン率は{rng.randint(low, high)}%で、"
                f"{rng.choice(_FEATURES)}の利用は{rng.choice(_TRENDS[health])}。"
            )
            if kind != TouchpointKind.SEMINAR:
                actions = _RISK_ACTIONS if health == AT_RISK and rng.random() < 0.6 else _ACTIONS
                sentences.append(f"次回アクション：{rng.choice(actions)}。")
        body = "".join(sentences).format(who=who, feature=feature)

        rating = ""
        if kind not in (TouchpointKind.EMAIL, TouchpointKind.NOTE) or rng.random() < 0.3:
            rating = self.ratings[health].pick(rng)
        return (
            Touchpoint(
                account=account,
                kind=kind,
                occurred_at=occurred,
                channel=self.channels[kind].pick(rng),
                rating=rating,
                author=account.owner or rng.choice(self.csms),
                subject=subject.format(feature=feature),
                body=body,
            ),
            contacts,
        )


def ensure_users(password: str | None = None) -> list[User]:
    """Get or create the demo users (6 CSMs, a manager, a viewer), in `DEMO_USERS` order.

    Existing users keep their role and name. With `password`, every demo user gets it (one
    hash shared by all: Argon2 is deliberately slow, and the passwords are equal anyway);
    without, new users get an unusable password and existing users keep theirs.
    """
    hashed = make_password(password) if password is not None else None
    users = []
    for username, family, given, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "display_name": f"{family} {given}",
                "last_name": family,
                "first_name": given,
                "email": f"{username}@kizuna.example",
            },
        )
        if hashed is not None:
            user.password = hashed
            user.save(update_fields=["password"])
        elif created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    return users


def generate(
    accounts: int = 300,
    *,
    seed: int = 42,
    password: str | None = None,
    touchpoints_per_account: float | None = None,
    stdout: Callable[[str], None] | None = None,
) -> SeedResult:
    """Create the demo users and `accounts` accounts with everything that hangs off them.

    Deterministic for a given seed, size and day. Touchpoints default to 15 per account up to
    1,000 accounts and 2 beyond, so a 100,000-account load test stays quick. Runs in one
    transaction and finishes with `refresh_rollups`, so ARR, MRR, renewal and tier are set.
    Does not check that the database is empty; account external ids (SF-000001…) would clash.
    """
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise ValueError(f"accounts must be between 1 and {MAX_ACCOUNTS:,}")
    if touchpoints_per_account is None:
        touchpoints_per_account = 15.0 if accounts <= 1_000 else 2.0
    if touchpoints_per_account < 0:
        raise ValueError("touchpoints_per_account cannot be negative")
    say = stdout or (lambda _message: None)
    rng = random.Random(seed)
    today = timezone.localdate()

    with transaction.atomic():
        users = ensure_users(password)
        csms = [user for user, spec in zip(users, DEMO_USERS, strict=True) if spec[3] == Role.CSM]
        generator = _Generator(rng, today, csms, touchpoints_per_account)
        churned = set(rng.sample(range(accounts), round(accounts * CHURN_RATE)))
        for first in range(0, accounts, CHUNK_ACCOUNTS):
            size = min(CHUNK_ACCOUNTS, accounts - first)
            generator.chunk(first, size, churned)
            say(f"{first + size:,} / {accounts:,} accounts")
        say("Computing ARR, MRR, renewal dates and tiers…")
        refresh_rollups()
        say("Stage rules and lifecycle history…")
        ensure_default_rules()
        seed_lifecycle_history(seed, today)
        ensure_default_scorecard()

    counts = generator.counts
    return SeedResult(
        accounts=counts.accounts,
        contacts=counts.contacts,
        subscriptions=counts.subscriptions,
        opportunities=counts.opportunities,
        touchpoints=counts.touchpoints,
        users=[user.username for user in users],
    )
