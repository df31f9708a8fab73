"""Matching a character's shape keys to a take's channels (``blender_addon.retarget``), as data.

The tables below are real key names from seven conventions, written out as data: ARKit's
own names (Apple, Faceit, Ready Player Me), Apple's raw values (``eyeBlink_L``), Live Link
Face / MetaHuman (``EyeBlinkLeft``), snake_case exports, Character Creator 4 / iClone,
Mixamo Fuse, VRoid / VRM, prefixed exports (Maya ``blendShape1.``, ``BS.``, mesh names) and
Blender's ``.L/.R``. ``None`` means the key must stay unmapped: it has no ARKit counterpart,
or its name does not say which one.
"""

from blender_addon.retarget import ARKIT_CHANNELS

ARKIT_52 = ARKIT_CHANNELS
"""ARKit's names as Apple documents them (Faceit and Ready Player Me use them as they are)."""

ARKIT = [(name, name) for name in ARKIT_52]

APPLE_RAW_VALUES = [
    ("eyeBlink_L", "eyeBlinkLeft"), ("eyeLookDown_L", "eyeLookDownLeft"), ("eyeLookIn_L", "eyeLookInLeft"),
    ("eyeLookOut_L", "eyeLookOutLeft"), ("eyeLookUp_L", "eyeLookUpLeft"), ("eyeSquint_L", "eyeSquintLeft"),
    ("eyeWide_L", "eyeWideLeft"), ("eyeBlink_R", "eyeBlinkRight"), ("eyeLookDown_R", "eyeLookDownRight"),
    ("eyeLookIn_R", "eyeLookInRight"), ("eyeLookOut_R", "eyeLookOutRight"), ("eyeLookUp_R", "eyeLookUpRight"),
    ("eyeSquint_R", "eyeSquintRight"), ("eyeWide_R", "eyeWideRight"), ("jawForward", "jawForward"),
    ("jawLeft", "jawLeft"), ("jawRight", "jawRight"), ("jawOpen", "jawOpen"), ("mouthClose", "mouthClose"),
    ("mouthFunnel", "mouthFunnel"), ("mouthPucker", "mouthPucker"), ("mouthLeft", "mouthLeft"),
    ("mouthRight", "mouthRight"), ("mouthSmile_L", "mouthSmileLeft"), ("mouthSmile_R", "mouthSmileRight"),
    ("mouthFrown_L", "mouthFrownLeft"), ("mouthFrown_R", "mouthFrownRight"), ("mouthDimple_L", "mouthDimpleLeft"),
    ("mouthDimple_R", "mouthDimpleRight"), ("mouthStretch_L", "mouthStretchLeft"),
    ("mouthStretch_R", "mouthStretchRight"), ("mouthRollLower", "mouthRollLower"),
    ("mouthRollUpper", "mouthRollUpper"), ("mouthShrugLower", "mouthShrugLower"),
    ("mouthShrugUpper", "mouthShrugUpper"), ("mouthPress_L", "mouthPressLeft"), ("mouthPress_R", "mouthPressRight"),
    ("mouthLowerDown_L", "mouthLowerDownLeft"), ("mouthLowerDown_R", "mouthLowerDownRight"),
    ("mouthUpperUp_L", "mouthUpperUpLeft"), ("mouthUpperUp_R", "mouthUpperUpRight"), ("browDown_L", "browDownLeft"),
    ("browDown_R", "browDownRight"), ("browInnerUp", "browInnerUp"), ("browOuterUp_L", "browOuterUpLeft"),
    ("browOuterUp_R", "browOuterUpRight"), ("cheekPuff", "cheekPuff"), ("cheekSquint_L", "cheekSquintLeft"),
    ("cheekSquint_R", "cheekSquintRight"), ("noseSneer_L", "noseSneerLeft"), ("noseSneer_R", "noseSneerRight"),
    ("tongueOut", "tongueOut"),
]

LIVE_LINK_FACE = [
    ("EyeBlinkLeft", "eyeBlinkLeft"), ("EyeLookDownLeft", "eyeLookDownLeft"), ("EyeLookInLeft", "eyeLookInLeft"),
    ("EyeLookOutLeft", "eyeLookOutLeft"), ("EyeLookUpLeft", "eyeLookUpLeft"), ("EyeSquintLeft", "eyeSquintLeft"),
    ("EyeWideLeft", "eyeWideLeft"), ("EyeBlinkRight", "eyeBlinkRight"), ("EyeLookDownRight", "eyeLookDownRight"),
    ("EyeLookInRight", "eyeLookInRight"), ("EyeLookOutRight", "eyeLookOutRight"),
    ("EyeLookUpRight", "eyeLookUpRight"), ("EyeSquintRight", "eyeSquintRight"), ("EyeWideRight", "eyeWideRight"),
    ("JawForward", "jawForward"), ("JawLeft", "jawLeft"), ("JawRight", "jawRight"), ("JawOpen", "jawOpen"),
    ("MouthClose", "mouthClose"), ("MouthFunnel", "mouthFunnel"), ("MouthPucker", "mouthPucker"),
    ("MouthLeft", "mouthLeft"), ("MouthRight", "mouthRight"), ("MouthSmileLeft", "mouthSmileLeft"),
    ("MouthSmileRight", "mouthSmileRight"), ("MouthFrownLeft", "mouthFrownLeft"),
    ("MouthFrownRight", "mouthFrownRight"), ("MouthDimpleLeft", "mouthDimpleLeft"),
    ("MouthDimpleRight", "mouthDimpleRight"), ("MouthStretchLeft", "mouthStretchLeft"),
    ("MouthStretchRight", "mouthStretchRight"), ("MouthRollLower", "mouthRollLower"),
    ("MouthRollUpper", "mouthRollUpper"), ("MouthShrugLower", "mouthShrugLower"),
    ("MouthShrugUpper", "mouthShrugUpper"), ("MouthPressLeft", "mouthPressLeft"),
    ("MouthPressRight", "mouthPressRight"), ("MouthLowerDownLeft", "mouthLowerDownLeft"),
    ("MouthLowerDownRight", "mouthLowerDownRight"), ("MouthUpperUpLeft", "mouthUpperUpLeft"),
    ("MouthUpperUpRight", "mouthUpperUpRight"), ("BrowDownLeft", "browDownLeft"), ("BrowDownRight", "browDownRight"),
    ("BrowInnerUp", "browInnerUp"), ("BrowOuterUpLeft", "browOuterUpLeft"), ("BrowOuterUpRight", "browOuterUpRight"),
    ("CheekPuff", "cheekPuff"), ("CheekSquintLeft", "cheekSquintLeft"), ("CheekSquintRight", "cheekSquintRight"),
    ("NoseSneerLeft", "noseSneerLeft"), ("NoseSneerRight", "noseSneerRight"), ("TongueOut", "tongueOut"),
]

SNAKE_CASE = [
    ("eye_blink_left", "eyeBlinkLeft"), ("eye_look_down_left", "eyeLookDownLeft"),
    ("eye_look_in_left", "eyeLookInLeft"), ("eye_look_out_left", "eyeLookOutLeft"),
    ("eye_look_up_left", "eyeLookUpLeft"), ("eye_squint_left", "eyeSquintLeft"), ("eye_wide_left", "eyeWideLeft"),
    ("eye_blink_right", "eyeBlinkRight"), ("eye_look_down_right", "eyeLookDownRight"),
    ("eye_look_in_right", "eyeLookInRight"), ("eye_look_out_right", "eyeLookOutRight"),
    ("eye_look_up_right", "eyeLookUpRight"), ("eye_squint_right", "eyeSquintRight"),
    ("eye_wide_right", "eyeWideRight"), ("jaw_forward", "jawForward"), ("jaw_left", "jawLeft"),
    ("jaw_right", "jawRight"), ("jaw_open", "jawOpen"), ("mouth_close", "mouthClose"),
    ("mouth_funnel", "mouthFunnel"), ("mouth_pucker", "mouthPucker"), ("mouth_left", "mouthLeft"),
    ("mouth_right", "mouthRight"), ("mouth_smile_left", "mouthSmileLeft"), ("mouth_smile_right", "mouthSmileRight"),
    ("mouth_frown_left", "mouthFrownLeft"), ("mouth_frown_right", "mouthFrownRight"),
    ("mouth_dimple_left", "mouthDimpleLeft"), ("mouth_dimple_right", "mouthDimpleRight"),
    ("mouth_stretch_left", "mouthStretchLeft"), ("mouth_stretch_right", "mouthStretchRight"),
    ("mouth_roll_lower", "mouthRollLower"), ("mouth_roll_upper", "mouthRollUpper"),
    ("mouth_shrug_lower", "mouthShrugLower"), ("mouth_shrug_upper", "mouthShrugUpper"),
    ("mouth_press_left", "mouthPressLeft"), ("mouth_press_right", "mouthPressRight"),
    ("mouth_lower_down_left", "mouthLowerDownLeft"), ("mouth_lower_down_right", "mouthLowerDownRight"),
    ("mouth_upper_up_left", "mouthUpperUpLeft"), ("mouth_upper_up_right", "mouthUpperUpRight"),
    ("brow_down_left", "browDownLeft"), ("brow_down_right", "browDownRight"), ("brow_inner_up", "browInnerUp"),
    ("brow_outer_up_left", "browOuterUpLeft"), ("brow_outer_up_right", "browOuterUpRight"),
    ("cheek_puff", "cheekPuff"), ("cheek_squint_left", "cheekSquintLeft"),
    ("cheek_squint_right", "cheekSquintRight"), ("nose_sneer_left", "noseSneerLeft"),
    ("nose_sneer_right", "noseSneerRight"), ("tongue_out", "tongueOut"),
]

CHARACTER_CREATOR = [
    ("Brow_Raise_Inner_L", "browInnerUp"), ("Brow_Raise_Inner_R", "browInnerUp"),
    ("Brow_Raise_Outer_L", "browOuterUpLeft"), ("Brow_Raise_Outer_R", "browOuterUpRight"),
    ("Brow_Drop_L", "browDownLeft"), ("Brow_Drop_R", "browDownRight"), ("Brow_Compress_L", None),
    ("Brow_Compress_R", None), ("Eye_Blink_L", "eyeBlinkLeft"), ("Eye_Blink_R", "eyeBlinkRight"),
    ("Eye_Squint_L", "eyeSquintLeft"), ("Eye_Squint_R", "eyeSquintRight"), ("Eye_Wide_L", "eyeWideLeft"),
    ("Eye_Wide_R", "eyeWideRight"), ("Eye_L_Look_L", "eyeLookOutLeft"), ("Eye_L_Look_R", "eyeLookInLeft"),
    ("Eye_L_Look_Up", "eyeLookUpLeft"), ("Eye_L_Look_Down", "eyeLookDownLeft"), ("Eye_R_Look_L", "eyeLookInRight"),
    ("Eye_R_Look_R", "eyeLookOutRight"), ("Eye_R_Look_Up", "eyeLookUpRight"), ("Eye_R_Look_Down", "eyeLookDownRight"),
    ("Eye_Cheek_Raise_L", None), ("Eye_Cheek_Raise_R", None), ("Eyelash_Upper_Up_L", None),
    ("Eyelash_Lower_Down_R", None), ("Ear_Up_L", None), ("Ear_Back_R", None), ("Nose_Sneer_L", "noseSneerLeft"),
    ("Nose_Sneer_R", "noseSneerRight"), ("Nose_Nostril_Raise_L", None), ("Nose_Nostril_Dilate_R", None),
    ("Nose_Crease_L", None), ("Nose_Tip_Up", None), ("Cheek_Raise_L", "cheekSquintLeft"),
    ("Cheek_Raise_R", "cheekSquintRight"), ("Cheek_Suck_L", None), ("Cheek_Puff_L", "cheekPuff"),
    ("Cheek_Puff_R", "cheekPuff"), ("Mouth_Smile_L", "mouthSmileLeft"), ("Mouth_Smile_R", "mouthSmileRight"),
    ("Mouth_Smile_Sharp_L", None), ("Mouth_Smile_Sharp_R", None), ("Mouth_Frown_L", "mouthFrownLeft"),
    ("Mouth_Frown_R", "mouthFrownRight"), ("Mouth_Stretch_L", "mouthStretchLeft"),
    ("Mouth_Stretch_R", "mouthStretchRight"), ("Mouth_Dimple_L", "mouthDimpleLeft"),
    ("Mouth_Dimple_R", "mouthDimpleRight"), ("Mouth_Press_L", "mouthPressLeft"), ("Mouth_Press_R", "mouthPressRight"),
    ("Mouth_Tighten_L", None), ("Mouth_Blow_L", None), ("Mouth_Pucker_Up_L", "mouthPucker"),
    ("Mouth_Pucker_Down_R", "mouthPucker"), ("Mouth_Funnel_Up_R", "mouthFunnel"), ("Mouth_Funnel_Down_L", "mouthFunnel"),
    ("Mouth_Roll_In_Upper_L", "mouthRollUpper"), ("Mouth_Roll_In_Lower_R", "mouthRollLower"),
    ("Mouth_Roll_Out_Upper_L", None), ("Mouth_Push_Upper_L", None), ("Mouth_Pull_Lower_R", None),
    ("Mouth_Up_Upper_L", "mouthUpperUpLeft"), ("Mouth_Up_Upper_R", "mouthUpperUpRight"),
    ("Mouth_Down_Lower_L", "mouthLowerDownLeft"), ("Mouth_Down_Lower_R", "mouthLowerDownRight"),
    ("Mouth_Shrug_Upper", "mouthShrugUpper"), ("Mouth_Shrug_Lower", "mouthShrugLower"), ("Mouth_Close", "mouthClose"),
    ("Mouth_L", "mouthLeft"), ("Mouth_R", "mouthRight"), ("Mouth_Up", None), ("Mouth_Down", None),
    ("Mouth_Chin_Up", None), ("Mouth_Contract", None), ("Jaw_Open", "jawOpen"), ("Jaw_Forward", "jawForward"),
    ("Jaw_Backward", None), ("Jaw_L", "jawLeft"), ("Jaw_R", "jawRight"), ("Jaw_Up", None),
    ("Tongue_Out", "tongueOut"), ("Tongue_Up", None), ("Tongue_Wide", None), ("V_Open", None),
    ("V_Explosive", None), ("V_Dental_Lip", None), ("V_Tight_O", None), ("V_Wide", None), ("V_Affricate", None),
]

MIXAMO_FUSE = [
    ("Blink_Left", "eyeBlinkLeft"), ("Blink_Right", "eyeBlinkRight"), ("BrowsDown_Left", "browDownLeft"),
    ("BrowsDown_Right", "browDownRight"), ("BrowsIn_Left", None), ("BrowsIn_Right", None),
    ("BrowsOuterLower_Left", None), ("BrowsUp_Left", None), ("BrowsUp_Right", None), ("CheekPuff_Left", "cheekPuff"),
    ("CheekPuff_Right", "cheekPuff"), ("EyesWide_Left", "eyeWideLeft"), ("EyesWide_Right", "eyeWideRight"),
    ("Frown_Left", "mouthFrownLeft"), ("Frown_Right", "mouthFrownRight"), ("JawBackward", None),
    ("JawForeward", "jawForward"), ("JawRotateY_Left", None), ("JawRotateZ_Left", None), ("Jaw_Down", None),
    ("Jaw_Left", "jawLeft"), ("Jaw_Right", "jawRight"), ("Jaw_Up", None), ("LowerLipDown_Left", "mouthLowerDownLeft"),
    ("LowerLipDown_Right", "mouthLowerDownRight"), ("LowerLipIn", None), ("LowerLipOut", None), ("Midmouth_Left", None),
    ("MouthDown", None), ("MouthNarrow_Left", None), ("MouthOpen", None), ("MouthUp", None),
    ("MouthWhistle_NarrowAdjust_Left", None), ("NoseScrunch_Left", "noseSneerLeft"),
    ("NoseScrunch_Right", "noseSneerRight"), ("Smile_Left", "mouthSmileLeft"), ("Smile_Right", "mouthSmileRight"),
    ("Squint_Left", None), ("Squint_Right", None), ("TongueUp", None), ("UpperLipIn", None), ("UpperLipOut", None),
    ("UpperLipUp_Left", "mouthUpperUpLeft"), ("UpperLipUp_Right", "mouthUpperUpRight"),
]

VROID_AND_VRM = [
    ("Fcl_ALL_Neutral", None), ("Fcl_ALL_Angry", None), ("Fcl_ALL_Fun", None), ("Fcl_ALL_Joy", None),
    ("Fcl_ALL_Sorrow", None), ("Fcl_ALL_Surprised", None), ("Fcl_BRW_Angry", None), ("Fcl_BRW_Fun", None),
    ("Fcl_BRW_Joy", None), ("Fcl_BRW_Sorrow", None), ("Fcl_BRW_Surprised", None), ("Fcl_EYE_Natural", None),
    ("Fcl_EYE_Angry", None), ("Fcl_EYE_Close", None), ("Fcl_EYE_Close_R", "eyeBlinkRight"),
    ("Fcl_EYE_Close_L", "eyeBlinkLeft"), ("Fcl_EYE_Joy", None), ("Fcl_EYE_Spread", None), ("Fcl_EYE_Surprised", None),
    ("Fcl_EYE_Iris_Hide", None), ("Fcl_EYE_Highlight_Hide", None), ("Fcl_MTH_Close", None), ("Fcl_MTH_Up", None),
    ("Fcl_MTH_Down", None), ("Fcl_MTH_Angry", None), ("Fcl_MTH_Small", None), ("Fcl_MTH_Large", None),
    ("Fcl_MTH_Neutral", None), ("Fcl_MTH_Fun", None), ("Fcl_MTH_Joy", None), ("Fcl_MTH_Sorrow", None),
    ("Fcl_MTH_Surprised", None), ("Fcl_MTH_A", None), ("Fcl_MTH_I", None), ("Fcl_MTH_U", None), ("Fcl_MTH_E", None),
    ("Fcl_MTH_O", None), ("Fcl_HA_Hide", None), ("Fcl_HA_Fung1", None), ("Blink", None), ("Blink_L", "eyeBlinkLeft"),
    ("Blink_R", "eyeBlinkRight"), ("Joy", None), ("Angry", None), ("Sorrow", None), ("Fun", None),
    ("LookUp", None), ("LookDown", None), ("blinkLeft", "eyeBlinkLeft"), ("blinkRight", "eyeBlinkRight"),
    ("happy", None), ("relaxed", None), ("surprised", None), ("aa", None), ("ih", None), ("ou", None),
    ("ee", None), ("oh", None),
]

PREFIXED = [
    ("blendShape1.jawOpen", "jawOpen"), ("blendShape1.eyeBlinkLeft", "eyeBlinkLeft"),
    ("blendShape1.mouthSmile_L", "mouthSmileLeft"), ("blendShape1.browInnerUp", "browInnerUp"),
    ("blendShape1.tongueOut", "tongueOut"), ("blendShape2.mouthFunnel", "mouthFunnel"), ("BS.jawOpen", "jawOpen"),
    ("BS.mouthPucker", "mouthPucker"), ("BS.eyeWideRight", "eyeWideRight"), ("BS.noseSneerLeft", "noseSneerLeft"),
    ("BS.cheekPuff", "cheekPuff"), ("BS_mouthClose", "mouthClose"), ("Face_jawOpen", "jawOpen"),
    ("Face_mouthSmileLeft", "mouthSmileLeft"), ("Face_eyeBlink_R", "eyeBlinkRight"), ("Face_Brow_Drop_L", "browDownLeft"),
    ("head_mouthRollLower", "mouthRollLower"), ("Head.mouthShrugUpper", "mouthShrugUpper"),
    ("CC_Base_Body.Mouth_Smile_L", "mouthSmileLeft"), ("CC_Base_Body.Eye_Blink_R", "eyeBlinkRight"),
    ("CC_Base_Body.Jaw_Open", "jawOpen"), ("Wolf3D_Head.mouthFrownLeft", "mouthFrownLeft"),
    ("Wolf3D_Head.viseme_aa", None), ("ARKit_jawOpen", "jawOpen"), ("ARKit_eyeSquintLeft", "eyeSquintLeft"),
    ("arkit.mouthStretchRight", "mouthStretchRight"), ("Mesh:jawLeft", "jawLeft"), ("Body|mouthDimpleRight", "mouthDimpleRight"),
    ("shapes.browOuterUpLeft", "browOuterUpLeft"), ("morph_cheekSquintRight", "cheekSquintRight"),
    ("blendShape1.Basis", None), ("BS.Mouth_Smile_Sharp_L", None), ("Face_Smile", None),
]

BLENDER_SIDES = [
    ("eyeBlink.L", "eyeBlinkLeft"), ("eyeBlink.R", "eyeBlinkRight"), ("mouthSmile.L", "mouthSmileLeft"),
    ("mouthSmile.R", "mouthSmileRight"), ("mouthFrown.L", "mouthFrownLeft"), ("browDown.R", "browDownRight"),
    ("eye_look_out.R", "eyeLookOutRight"), ("eye_look_in.L", "eyeLookInLeft"), ("cheek_squint.L", "cheekSquintLeft"),
    ("nose_sneer.R", "noseSneerRight"), ("mouth_press.L", "mouthPressLeft"), ("L_eyeBlink", "eyeBlinkLeft"),
    ("R_eyeBlink", "eyeBlinkRight"), ("L_mouthSmile", "mouthSmileLeft"), ("R_browOuterUp", "browOuterUpRight"),
    ("L_Eye_Wide", "eyeWideLeft"), ("Left_eyeSquint", "eyeSquintLeft"), ("Right_mouthDimple", "mouthDimpleRight"),
    ("eyeBlinkL", "eyeBlinkLeft"), ("mouthSmileR", "mouthSmileRight"), ("MOUTH_SMILE_L", "mouthSmileLeft"),
    ("JAW_OPEN", "jawOpen"), ("jaw-open", "jawOpen"), ("jaw open", "jawOpen"), ("mouthsmileleft", "mouthSmileLeft"),
    ("eyeblinkright", "eyeBlinkRight"), ("jawopen", "jawOpen"), ("Mouth Smile Left", "mouthSmileLeft"),
    ("brow-inner-up", "browInnerUp"), ("browInnerUp.L", "browInnerUp"),
]

NEAR_MISSES = [
    ("Basis", None), ("Reference", None), ("eyeBlink", None), ("mouthSmile", None), ("Smile", None), ("Blink", None),
    ("mouthOpen", None), ("jawOpen2", None), ("jawOpen.001", None), ("mouthSmileSharpLeft", None),
    ("eyeLookUp", None), ("mouthUpperUp", None), ("cheekSquint", None), ("browOuterUp", None), ("eyeBlinkLeftUpper", None),
    ("jawOpenExtreme", None), ("mouthSmileLeftRight", None), ("tongue", None), ("eyeLookLeft", None),
    ("Eye_L_Look_L_R", None), ("noseSneer", None), ("pupilDilate_L", None), ("eyeLidUp_L", None),
    ("mouthLeftRight", None), ("lipCornerPuller_L", None), ("AU12_L", None), ("Expressions_mouthSmile_max", None),
]

CONVENTIONS = {
    "ARKit": ARKIT, "Apple raw values": APPLE_RAW_VALUES, "Live Link Face": LIVE_LINK_FACE, "snake_case": SNAKE_CASE,
    "Character Creator / iClone": CHARACTER_CREATOR, "Mixamo Fuse": MIXAMO_FUSE, "VRoid / VRM": VROID_AND_VRM,
    "prefixed exports": PREFIXED, "Blender sides": BLENDER_SIDES, "near misses": NEAR_MISSES,
}
TABLE = [(convention, name, channel) for convention, rows in CONVENTIONS.items() for name, channel in rows]
