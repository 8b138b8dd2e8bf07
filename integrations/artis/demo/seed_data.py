"""Static reference data of the demo artis.net: people, teams and client sites.

Addresses are real streets in Île-de-France and the Lyon area with approximate GPS coordinates;
company names are invented. Phone numbers come from the ARCEP ranges reserved for fiction
(01 99 00, 04 65 71, 06 39 98) and emails use the reserved `.example` domain, so a demo can never
call or mail a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.artis.models import LicenceType, Mission, RelationType, UOGroupType

DEMO_PASSWORD = "demo"
# Bump when the seeded people or units change: a demo database of an older version reseeds at
# start-up instead of waiting for the next day. 2: `demo.sso`. 3: the sub-unit CDV-IDF-PME
# (`demo.lmercier`) and `status_changed_on` on affaires.
SEED_VERSION = "3"
INTERNAL_ORG = "ARTIS Démo Bureautique"
USER_EMAIL_DOMAIN = "artis-demo-bureautique.example"


class DemoLogins:
    """Logins of the seeded accounts, for tests and the README."""

    MANAGER = "demo.manager"
    COMMERCIAL = "demo.commercial"
    TDUBOIS = "demo.tdubois"
    SBENALI = "demo.sbenali"
    LYON_MANAGER = "demo.ngarnier"
    PFAURE = "demo.pfaure"
    AROBERT = "demo.arobert"
    NO_LICENCE = "demo.nolicence"
    NO_UO = "demo.nouo"
    NO_MISSION = "demo.nomission"
    LOCKED = "demo.locked"
    SSO = "demo.sso"  # signs in through the demo identity provider (SSO)
    LMERCIER = "demo.lmercier"  # the rep of the sub-unit CDV-IDF-PME, under CDV-IDF
    SERVICE = "bot.service"


@dataclass(frozen=True)
class PersonSeed:
    """An internal user (collaborateur + access account)."""

    login: str
    civility: str
    first_name: str
    last_name: str
    job_title: str
    missions: tuple[Mission, ...]
    licences: tuple[LicenceType, ...]
    locked: bool = False
    sso: bool = False


@dataclass(frozen=True)
class UnitSeed:
    """An organisational unit; membership lives here only."""

    code: str
    name: str
    group_type: UOGroupType
    activity: str
    head_login: str | None
    member_logins: tuple[str, ...]
    parent_code: str | None = None


@dataclass(frozen=True)
class SiteSeed:
    """A client establishment at a real address."""

    company: str
    address: str
    postal_code: str
    city: str
    latitude: float
    longitude: float
    relation: RelationType = RelationType.CLIENT


_CRM_APP = (LicenceType.CRM, LicenceType.PDA)
_SALES = (Mission.COMMERCIAL,)

PEOPLE: tuple[PersonSeed, ...] = (
    PersonSeed(
        DemoLogins.MANAGER,
        "M.",
        "Laurent",
        "Girard",
        "Chef des ventes Île-de-France",
        _SALES,
        _CRM_APP,
    ),
    PersonSeed(
        DemoLogins.COMMERCIAL, "Mme", "Camille", "Martin", "Commerciale terrain", _SALES, _CRM_APP
    ),
    PersonSeed(
        DemoLogins.TDUBOIS, "M.", "Thomas", "Dubois", "Commercial grands comptes", _SALES, _CRM_APP
    ),
    PersonSeed(
        DemoLogins.SBENALI, "Mme", "Sarah", "Benali", "Commerciale terrain", _SALES, _CRM_APP
    ),
    PersonSeed(
        DemoLogins.LYON_MANAGER,
        "M.",
        "Nicolas",
        "Garnier",
        "Chef des ventes Rhône-Alpes",
        _SALES,
        _CRM_APP,
    ),
    PersonSeed(
        DemoLogins.PFAURE, "Mme", "Pauline", "Faure", "Commerciale terrain", _SALES, _CRM_APP
    ),
    PersonSeed(
        DemoLogins.AROBERT, "M.", "Antoine", "Robert", "Commercial terrain", _SALES, _CRM_APP
    ),
    PersonSeed(
        DemoLogins.NO_LICENCE,
        "M.",
        "Julien",
        "Petit",
        "Commercial terrain",
        _SALES,
        (LicenceType.CRM,),
    ),
    PersonSeed(DemoLogins.NO_UO, "Mme", "Léa", "Roux", "Commerciale sédentaire", _SALES, _CRM_APP),
    PersonSeed(
        DemoLogins.NO_MISSION,
        "M.",
        "Hugo",
        "Marchand",
        "Gestionnaire ADV",
        (Mission.GESTIONNAIRE,),
        _CRM_APP,
    ),
    PersonSeed(
        DemoLogins.LOCKED,
        "Mme",
        "Chloé",
        "Bonnet",
        "Commerciale terrain",
        _SALES,
        _CRM_APP,
        locked=True,
    ),
    PersonSeed(
        DemoLogins.SERVICE,
        "",
        "Bot Telegram",
        "Compte de service",
        "Compte technique",
        (),
        (LicenceType.WS_REST, LicenceType.CRM),
    ),
    # Last, so the ids (COL-0001...) of the accounts above stay as they were.
    PersonSeed(
        DemoLogins.SSO, "M.", "Mathieu", "Lambert", "Commercial terrain", _SALES, _CRM_APP,
        sso=True,
    ),
    PersonSeed(
        DemoLogins.LMERCIER, "Mme", "Lucie", "Mercier", "Commerciale PME", _SALES, _CRM_APP
    ),
)

UNITS: tuple[UnitSeed, ...] = (
    UnitSeed(
        "CDV-IDF",
        "Équipe commerciale Île-de-France",
        UOGroupType.COMMERCE,
        "Bureautique",
        DemoLogins.MANAGER,
        (
            DemoLogins.MANAGER,
            DemoLogins.COMMERCIAL,
            DemoLogins.TDUBOIS,
            DemoLogins.SBENALI,
            DemoLogins.NO_LICENCE,
            DemoLogins.NO_MISSION,
            DemoLogins.LOCKED,
            DemoLogins.SSO,
        ),
    ),
    UnitSeed(
        "CDV-LYON",
        "Équipe commerciale Lyon",
        UOGroupType.COMMERCE,
        "Bureautique",
        DemoLogins.LYON_MANAGER,
        (DemoLogins.LYON_MANAGER, DemoLogins.PFAURE, DemoLogins.AROBERT),
    ),
    UnitSeed(
        "ADV",
        "Administration des ventes",
        UOGroupType.SERVICE,
        "Gestion commerciale",
        None,
        (DemoLogins.NO_UO,),
    ),
    UnitSeed(
        "SAV-IDF",
        "Service technique Île-de-France",
        UOGroupType.ACTIVITE_METIER,
        "Maintenance",
        None,
        (),
    ),
    # A sub-unit of CDV-IDF with no head of its own: CDV-IDF's head manages it.
    UnitSeed(
        "CDV-IDF-PME",
        "Équipe PME Île-de-France",
        UOGroupType.COMMERCE,
        "Bureautique",
        None,
        (DemoLogins.LMERCIER,),
        parent_code="CDV-IDF",
    ),
)

# The sub-unit rep's sites (Île-de-France indexes), her planning is built without random draws.
SUB_UNIT_SITES: tuple[int, ...] = (24, 26, 27)

# Who prospects which sites: Île-de-France sites are indexes 0-27, Lyon sites 28-41.
PORTFOLIOS: dict[str, tuple[int, ...]] = {
    DemoLogins.COMMERCIAL: (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11),
    DemoLogins.TDUBOIS: (10, 12, 13, 16, 17, 25, 27),
    DemoLogins.SBENALI: (14, 15, 18, 19, 20, 21),
    DemoLogins.MANAGER: (22, 23, 24),
    DemoLogins.NO_LICENCE: (26,),
    DemoLogins.PFAURE: (28, 29, 30, 31, 32, 33),
    DemoLogins.AROBERT: (34, 35, 36, 37, 38),
    DemoLogins.LYON_MANAGER: (39, 40, 41),
}

_S = SiteSeed
_P = RelationType.PROSPECT
_SU = RelationType.SUSPECT
SITES: tuple[SiteSeed, ...] = (
    # Île-de-France
    _S(
        "Imprimerie Carpentier", "14 Rue du Faubourg Saint-Denis", "75010", "Paris", 48.8706, 2.3534
    ),
    _S("Cabinet Rousseau Expertise", "27 Avenue de l'Opéra", "75001", "Paris", 48.8663, 2.3340),
    _S("Mairie du 11e arrondissement", "12 Place Léon Blum", "75011", "Paris", 48.8576, 2.3800),
    _S(
        "Étude Delorme & Associés", "8 Boulevard Malesherbes", "75008", "Paris", 48.8715, 2.3225, _P
    ),
    _S(
        "Clinique vétérinaire des Ternes", "21 Avenue des Ternes", "75017", "Paris", 48.8789, 2.2963
    ),
    _S(
        "Bastille Conseil Immobilier",
        "60 Rue de la Roquette",
        "75011",
        "Paris",
        48.8550,
        2.3747,
        _SU,
    ),
    _S("Librairie Gallien", "102 Rue de Rennes", "75006", "Paris", 48.8483, 2.3283),
    _S(
        "Centre de formation Tolbiac Compétences",
        "85 Rue de Tolbiac",
        "75013",
        "Paris",
        48.8268,
        2.3640,
        _P,
    ),
    _S(
        "Atelier d'architecture Morel Vidal",
        "40 Rue du Commerce",
        "75015",
        "Paris",
        48.8462,
        2.2948,
    ),
    _S(
        "Laboratoire d'analyses Convention",
        "150 Rue de la Convention",
        "75015",
        "Paris",
        48.8385,
        2.2905,
        _SU,
    ),
    _S("Transports Mercier Logistique", "1 Rue de la Tour", "94150", "Rungis", 48.7488, 2.3513),
    _S(
        "Mairie de Boulogne-Billancourt",
        "26 Avenue André Morizet",
        "92100",
        "Boulogne-Billancourt",
        48.8353,
        2.2400,
    ),
    _S("Mairie de Montreuil", "1 Place Jean Jaurès", "93100", "Montreuil", 48.8622, 2.4414),
    _S(
        "Assurances Fontaine & Fils",
        "30 Rue Louis Rouquier",
        "92300",
        "Levallois-Perret",
        48.8941,
        2.2880,
        _P,
    ),
    _S(
        "Cabinet dentaire du Parc",
        "22 Avenue Paul Doumer",
        "92500",
        "Rueil-Malmaison",
        48.8760,
        2.1840,
    ),
    _S(
        "Résidence seniors Les Tilleuls",
        "53 Rue de Fontenay",
        "94300",
        "Vincennes",
        48.8487,
        2.4371,
        _SU,
    ),
    _S("SCI Défense Bureaux", "2 Place de la Défense", "92800", "Puteaux", 48.8926, 2.2391),
    _S("Mairie de Versailles", "4 Avenue de Paris", "78000", "Versailles", 48.8018, 2.1306),
    _S(
        "Garage Lemoine Automobiles",
        "115 Avenue Jean Jaurès",
        "93300",
        "Aubervilliers",
        48.9045,
        2.3850,
    ),
    _S(
        "Pharmacie Centrale de Saint-Denis",
        "2 Rue de la République",
        "93200",
        "Saint-Denis",
        48.9358,
        2.3568,
        _P,
    ),
    _S(
        "Delacroix Traiteur Événements",
        "47 Rue du Général Leclerc",
        "92130",
        "Issy-les-Moulineaux",
        48.8237,
        2.2732,
    ),
    _S("Crèche Les Petits Loups", "1 Rue Gustave Eiffel", "94000", "Créteil", 48.7795, 2.4590, _SU),
    _S("Mairie de Massy", "1 Avenue du Général de Gaulle", "91300", "Massy", 48.7307, 2.2758),
    _S(
        "Menuiserie Bernard & Cie",
        "18 Boulevard de l'Europe",
        "91000",
        "Évry-Courcouronnes",
        48.6298,
        2.4350,
    ),
    _S("Cergy Intérim Services", "13 Boulevard de l'Oise", "95000", "Cergy", 49.0380, 2.0770, _P),
    _S("Mairie de Nanterre", "88 Rue du 8 Mai 1945", "92000", "Nanterre", 48.8920, 2.2065),
    _S(
        "Cabinet Girard-Lenoir Avocats",
        "10 Rue au Pain",
        "78100",
        "Saint-Germain-en-Laye",
        48.8985,
        2.0935,
    ),
    _S(
        "Valmont Gestion Privée",
        "120 Avenue Charles de Gaulle",
        "92200",
        "Neuilly-sur-Seine",
        48.8840,
        2.2690,
        _P,
    ),
    # Lyon area
    _S("Imprimerie Perrin Rhône", "17 Rue de Marseille", "69007", "Lyon", 45.7520, 4.8420),
    _S("Office notarial Chevalier", "20 Rue de la République", "69002", "Lyon", 45.7628, 4.8363),
    _S(
        "Centre médical Bellecour Santé", "10 Place Bellecour", "69002", "Lyon", 45.7578, 4.8322, _P
    ),
    _S("Part-Dieu Conseil RH", "5 Place Charles Béraudier", "69003", "Lyon", 45.7606, 4.8597),
    _S(
        "Traiteur Gones & Saveurs",
        "66 Quai Charles de Gaulle",
        "69006",
        "Lyon",
        45.7855,
        4.8530,
        _SU,
    ),
    _S("Mairie de Villeurbanne", "Place Lazare Goujon", "69100", "Villeurbanne", 45.7663, 4.8797),
    _S("Mairie de Lyon", "1 Place de la Comédie", "69001", "Lyon", 45.7675, 4.8363),
    _S(
        "Transports Blanchard Rhône-Alpes",
        "12 Rue Marcel Mérieux",
        "69007",
        "Lyon",
        45.7318,
        4.8345,
        _P,
    ),
    _S("Guillot Ingénierie", "23 Avenue Guy de Collongue", "69130", "Écully", 45.7835, 4.7675),
    _S(
        "Librairie des Terreaux",
        "8 Rue du Président Édouard Herriot",
        "69001",
        "Lyon",
        45.7657,
        4.8345,
    ),
    _S("Cabinet dentaire Gambetta", "120 Cours Gambetta", "69007", "Lyon", 45.7528, 4.8535, _SU),
    _S("Brotteaux Immobilier", "45 Boulevard des Belges", "69006", "Lyon", 45.7710, 4.8530),
    _S("Mairie de Bron", "Place de Weingarten", "69500", "Bron", 45.7383, 4.9130),
    _S("Lafayette Expertise Comptable", "45 Cours Lafayette", "69006", "Lyon", 45.7630, 4.8480, _P),
)

CONTACT_FIRST_NAMES: tuple[tuple[str, str], ...] = (
    ("Mme", "Isabelle"),
    ("M.", "Philippe"),
    ("Mme", "Nathalie"),
    ("M.", "Olivier"),
    ("Mme", "Sandrine"),
    ("M.", "Stéphane"),
    ("Mme", "Valérie"),
    ("M.", "Christophe"),
    ("Mme", "Aurélie"),
    ("M.", "Frédéric"),
    ("Mme", "Émilie"),
    ("M.", "Sébastien"),
    ("Mme", "Claire"),
    ("M.", "Vincent"),
    ("Mme", "Hélène"),
    ("M.", "Mathieu"),
    ("Mme", "Julie"),
    ("M.", "Guillaume"),
    ("Mme", "Caroline"),
    ("M.", "Benoît"),
)
CONTACT_LAST_NAMES: tuple[str, ...] = (
    "Lefebvre",
    "Moreau",
    "Fournier",
    "Lambert",
    "Bonnet",
    "François",
    "Mercier",
    "Blanc",
    "Guerin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "Legrand",
    "Gauthier",
    "Perrin",
    "Morin",
    "Clément",
    "Rousseau",
    "Vincent",
    "Masson",
    "Henry",
    "Roussel",
    "Nicolas",
    "Mathieu",
    "Duval",
    "Denis",
    "Lemaire",
    "Dumas",
    "Brunet",
    "Schmitt",
    "Colin",
    "Fabre",
)
COMPANY_FUNCTIONS: tuple[str, ...] = (
    "Gérant",
    "Directeur général",
    "Directrice administrative et financière",
    "Responsable des achats",
    "Office manager",
    "Assistante de direction",
    "Responsable informatique",
    "Responsable des services généraux",
)
TOWN_HALL_FUNCTIONS: tuple[str, ...] = (
    "Directeur général des services",
    "Responsable de la commande publique",
    "Responsable des systèmes d'information",
    "Directrice des services techniques",
)

SUBJECTS = {
    "RDV": (
        "Présentation de l'offre copieurs couleur",
        "Rendez-vous de suivi annuel",
        "Démonstration de la solution GED",
        "Visite de découverte",
        "Revue du contrat de maintenance",
        "Présentation de la proposition commerciale",
        "Audit du parc d'impression",
        "Signature du contrat de location",
    ),
    "APPEL": (
        "Appel de qualification",
        "Point téléphonique sur le devis",
        "Appel de suivi après installation",
        "Prise de rendez-vous",
        "Appel de courtoisie",
    ),
    "EMAIL": (
        "Envoi de la proposition commerciale",
        "Envoi de la documentation produit",
        "Confirmation du rendez-vous",
        "Envoi du comparatif de coûts d'impression",
    ),
    "RELANCE": ("Relance devis en attente", "Relance signature du contrat"),
}

DETAILS = {
    "RDV": (
        "Prévoir la brochure des multifonctions A3 et le simulateur de coûts.",
        "Le client souhaite comparer location et achat sur 5 ans.",
        "Se présenter à l'accueil, parking visiteurs au sous-sol.",
        "Faire le point sur les volumes d'impression du dernier trimestre.",
    ),
    "APPEL": (
        "Vérifier le nombre de postes et les besoins en scan.",
        "Valider la date d'installation avec le service technique.",
        "Le contact préfère être appelé en fin de matinée.",
    ),
    "EMAIL": (
        "Joindre la plaquette et les conditions de financement.",
        "Rappeler les conditions de reprise de l'ancien matériel.",
    ),
    "RELANCE": (
        "Devis envoyé il y a dix jours, sans réponse à ce jour.",
        "Le bon de commande n'est pas encore revenu signé.",
    ),
}

REPORTS = (
    "Rendez-vous productif : besoin confirmé de renouveler trois copieurs. Devis à envoyer.",
    "Contact joint, intéressé par la solution GED. Démonstration à planifier.",
    "Le client attend la validation budgétaire de sa direction, rappeler dans deux semaines.",
    "Proposition transmise, le client la compare avec une offre concurrente.",
    "Échange cordial, pas de projet à court terme. Garder le contact.",
    "Installation satisfaisante, le client envisage un second équipement pour l'accueil.",
)

AFFAIRE_LABELS = (
    "Renouvellement du parc de copieurs",
    "Déploiement d'une solution GED",
    "Contrat de maintenance multifonctions",
    "Équipement visioconférence des salles de réunion",
    "Location de multifonctions couleur A3",
    "Infogérance du parc d'impression",
    "Remplacement des imprimantes de l'accueil",
)
