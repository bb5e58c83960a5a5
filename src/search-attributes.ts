import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Registered on the server by temporal-dev.sh; kept current by the workflows as steps advance. */
export const ExtensionType = defineSearchAttributeKey('ExtensionType', SearchAttributeType.KEYWORD);
export const ExtensionName = defineSearchAttributeKey('ExtensionName', SearchAttributeType.KEYWORD);
export const ExtensionVersion = defineSearchAttributeKey('ExtensionVersion', SearchAttributeType.KEYWORD);
export const InstallStep = defineSearchAttributeKey('InstallStep', SearchAttributeType.KEYWORD);
export const TargetServer = defineSearchAttributeKey('TargetServer', SearchAttributeType.KEYWORD);
